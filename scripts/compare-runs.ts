// Tables for docs/results.md from single runs trained side by side: per run its steps, epochs and wall time,
// every train.eval evaluation against the wall time it came at, then each `dcgan-run eval` file in the run directory.
// Each metric is followed by its real-vs-real floor and, for distances (fd, kid, swd, class_tv), by the ratio to
// that floor ("x floor"; left out where the floor is <= 0). For seeds and statistics, see scripts/results.ts.
// Markdown on stdout; with --grids DIR, each run's last sample grid is copied there as <label>.png.
//
//   node --import tsx scripts/compare-runs.ts <label>=<run-dir> ... [--metrics swd,precision,recall] [--grids docs/results/pokemon]
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readMetrics, readRunSummary } from '../src/track/run-dir.ts';
import { DISTANCE } from './results/metric-kinds.ts';

const { values: options, positionals } = parseArgs({
  allowPositionals: true,
  options: { metrics: { type: 'string', default: 'swd,precision,recall' }, grids: { type: 'string' } },
});
if (positionals.length === 0) throw new Error('usage: compare-runs.ts <label>=<run-dir> ... [--metrics swd,recall] [--grids DIR]');
const runs = positionals.map((arg) => {
  const [label, dir] = arg.split('=') as [string, string];
  return { label, dir };
});
const wanted = options.metrics.split(',').filter(Boolean);
const RATIO = ' x floor';
/** Metric columns: the wanted names (the patch metrics' average over pyramid levels), then each one's real-vs-real floor and, for distances, the ratio to it. */
const columnsOf = (values: Record<string, number>) => {
  const names = Object.keys(values).filter((name) => wanted.some((w) => name.startsWith(`${w}/`)) && (!name.includes('/patch') || name.endsWith('/avg')));
  return names.flatMap((name) =>
    [name, `real_vs_real/${name}`, ...(DISTANCE.test(name) ? [`${name}${RATIO}`] : [])].filter((n) => n in values || n.endsWith(RATIO)),
  );
};
const valueOf = (values: Record<string, number>, column: string) => {
  if (!column.endsWith(RATIO)) return values[column];
  const name = column.slice(0, -RATIO.length);
  const floor = values[`real_vs_real/${name}`];
  return floor !== undefined && floor > 0 && values[name] !== undefined ? values[name] / floor : undefined;
};
const fmt = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(3));

console.log('| run | status | steps | epochs | wall (min) | warnings |');
console.log('|---|---|---|---|---|---|');
for (const { label, dir } of runs) {
  const summary = readRunSummary(dir);
  const warnings = summary.warnings?.map((w) => `${w.kind} (epoch ${w.epoch})`).join(', ') || 'none';
  console.log(`| ${label} | ${summary.status} | ${summary.steps} | ${summary.epochsDone} | ${(summary.wallSeconds / 60).toFixed(1)} | ${warnings} |`);
}

for (const { label, dir } of runs) {
  const started = Date.parse(readRunSummary(dir).startedAt);
  const records = readMetrics(dir);
  const evals = records.filter((r) => r.type === 'eval');
  const steps = records.filter((r) => r.type === 'step');
  if (evals.length === 0) continue;
  const columns = columnsOf(evals[0]!.values);
  console.log(`\n${label} (${dir}):\n`);
  console.log(`| epoch | step | wall (min) | ${columns.join(' | ')} |`);
  console.log(`|---|---|---|${columns.map(() => '---').join('|')}|`);
  for (const e of evals) {
    const step = steps.filter((s) => s.epoch <= e.epoch).at(-1)?.step ?? 0;
    console.log(`| ${e.epoch} | ${step} | ${((e.time - started) / 60000).toFixed(1)} | ${columns.map((c) => fmt(valueOf(e.values, c))).join(' | ')} |`);
  }
  const finals = readdirSync(dir).filter((name) => /^eval-.*\.json$/.test(name));
  for (const name of finals) {
    const final = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { checkpoint: string; values: Record<string, number> };
    console.log(`| ${final.checkpoint} (dcgan-run eval) | | | ${columns.map((c) => fmt(valueOf(final.values, c))).join(' | ')} |`);
  }
}

if (options.grids) {
  mkdirSync(options.grids, { recursive: true });
  for (const { label, dir } of runs) {
    const samples = join(dir, 'samples');
    const last = existsSync(samples) ? readdirSync(samples).sort().at(-1) : undefined;
    if (last) copyFileSync(join(samples, last), join(options.grids, `${label}.png`));
  }
}
