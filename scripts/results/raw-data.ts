// The raw data behind every table, one row per trial and epoch: written as JSON lines (--jsonl) and CSV (--csv),
// and read back from JSON lines (--from) into the same trials.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { UserError } from '../../src/errors.ts';
import { csvField } from '../../src/io/csv-field.ts';
import { compactLosses, compactMetrics, LOSSES, metricNames, type Loss, type Trial } from './trials.ts';

type RawRow = {
  trial: string;
  status: string;
  seed: number;
  source: string;
  params: Record<string, unknown>;
  epoch: number;
  step: number | null;
  metrics: Record<string, number | null> | null;
} & Record<Loss, number | null>;

/** Every trial must have a value for each of `groupKeys`. */
export function readRawJsonl(file: string, groupKeys: string[]): Trial[] {
  const trials = new Map<string, Trial>();
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const r = JSON.parse(line) as RawRow;
    if (!trials.has(r.trial))
      trials.set(r.trial, { trial: r.trial, status: r.status, params: r.params, seed: r.seed, source: r.source, runDir: null, rows: [] });
    const losses = LOSSES.every((k) => r[k] !== null && r[k] !== undefined) ? compactLosses(r) : null;
    const metrics = r.metrics && compactMetrics(r.metrics);
    trials.get(r.trial)!.rows.push({ epoch: r.epoch, step: r.step, losses, metrics });
  }
  for (const key of groupKeys) {
    const missing = [...trials.values()].find((t) => !(key in t.params));
    if (missing) throw new UserError(`${file}: trial ${missing.trial} has no value for ${key} (its params: ${Object.keys(missing.params).join(', ')})`);
  }
  return [...trials.values()];
}

const jsonNumber = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? null : x);

export function writeRawJsonl(file: string, trials: Trial[]): void {
  const lines = trials.flatMap((t) =>
    t.rows.map((r) =>
      JSON.stringify({
        trial: t.trial,
        status: t.status,
        seed: t.seed,
        source: t.source,
        params: t.params,
        epoch: r.epoch,
        step: r.step,
        ...Object.fromEntries(LOSSES.map((k) => [k, jsonNumber(r.losses?.[k])])),
        metrics: r.metrics && Object.fromEntries(Object.entries(r.metrics).map(([k, v]) => [k, jsonNumber(v)])),
      }),
    ),
  );
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${lines.join('\n')}\n`);
}

/** Every metric and floor a column, after the losses. */
export function writeRawCsv(file: string, trials: Trial[]): void {
  const allMetricNames = metricNames(trials).sort();
  const n = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '' : String(x));
  const header = ['trial', 'status', 'seed', 'params', 'epoch', 'step', ...LOSSES, ...allMetricNames];
  const lines = trials.flatMap((t) =>
    t.rows.map((r) =>
      [
        t.trial,
        t.status,
        String(t.seed),
        JSON.stringify(t.params),
        String(r.epoch),
        r.step === null ? '' : String(r.step),
        ...LOSSES.map((k) => n(r.losses?.[k])),
        ...allMetricNames.map((k) => n(r.metrics?.[k])),
      ]
        .map(csvField)
        .join(','),
    ),
  );
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${[header.map(csvField).join(','), ...lines].join('\n')}\n`);
}
