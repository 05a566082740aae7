// Tables for docs/results.md from finished sweeps or runs: arms (the values of --group) over seeds, paired by
// seed. Markdown on stdout:
//   - per arm, the losses and metrics at one epoch (mean ± sample sd), and every trial's row;
//   - per metric, mean ± sd and the 95% Student t interval per arm, the real-vs-real floor beside it (two disjoint
//     real samples at the same n) and, for distances, the per-trial ratio to it (x floor), with its interval;
//   - with --baseline, every other arm against it, paired by seed: the mean difference and its 95% interval, the
//     paired t-test's p, the exact sign-flip test's p, Cohen's d_z, Holm's adjustment over the arms and Welch's p;
//   - the class histograms of generated and real images per arm, when the eval logged them;
//   - with --trajectory, a metric over training per arm (mean ± sd over seeds at each epoch).
// --jsonl/--csv write the raw data behind every table: one row per trial and epoch (losses; the evaluation's every
// metric and floor where there was one), numbers to 7 significant digits; --from reads such a JSONL back and gives
// the same tables without the runs. --grids DIR copies each trial's last sample grid and loss plot, and draws a grid
// of the trial's own real images (its class, in a per-class sweep) and both side by side.
//
//   node --import tsx scripts/results.ts <sweep-dir | [label=]run-dir> ... --group <key>[,key]
//     [--metrics swd,fd,kid,...] [--epoch common|last|N] [--baseline <arm>] [--trajectory <metric>]... [--plots DIR]
//     [--jsonl FILE] [--csv FILE] [--grids DIR]
//   node --import tsx scripts/results.ts --from docs/results/ablation.jsonl --group <key> [...]
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import type { Experiment } from '../src/config/experiment.generated.ts';
import { loadDataset } from '../src/data/dataset.ts';
import { IDX_DATASETS } from '../src/datasets/catalog.ts';
import { imagesFromDataset } from '../src/eval/images.ts';
import { BASELINE_PREFIX } from '../src/eval/metrics.ts';
import { cacheFolder } from '../src/io/cache-folder.ts';
import { deriveSeed, Rng } from '../src/random/rng.ts';
import { imageGridPng } from '../src/render/grid.ts';
import { lineChartPng } from '../src/render/loss-plot.ts';
import { holm, pairedTTest, signFlipTest, summarize, welchTTest } from '../src/stats/tests.ts';
import type { MetricRecord } from '../src/track/run-types.ts';
import { readMetrics, readRunConfig, readRunSummary } from '../src/track/run-dir.ts';
import type { SweepManifest } from '../src/track/sweep-manifest.ts';

const USAGE =
  'usage: results.ts <sweep-dir | [label=]run-dir> ... --group <key>[,key] [--metrics a,b] [--epoch common|last|N] [--baseline ARM] ' +
  '[--trajectory METRIC]... [--plots DIR] [--jsonl FILE] [--csv FILE] [--grids DIR]; or --from FILE.jsonl instead of the directories';

const { values: options, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    group: { type: 'string' },
    metrics: { type: 'string', default: '' },
    // Kept for older command lines: every metric's floor is shown beside it now.
    floors: { type: 'string', default: '' },
    epoch: { type: 'string', default: 'common' },
    baseline: { type: 'string' },
    trajectory: { type: 'string', multiple: true, default: [] },
    plots: { type: 'string' },
    jsonl: { type: 'string' },
    csv: { type: 'string' },
    from: { type: 'string' },
    grids: { type: 'string' },
  },
});
const fail = (message: string): never => {
  process.stderr.write(`results.ts: ${message}\n`);
  process.exit(2);
};
if ((positionals.length === 0) === !options.from) fail(USAGE);
if (options.from && options.grids) fail('--grids needs the run directories, not --from');
const LOSSES = ['lossD', 'lossG', 'dReal', 'dFake'] as const;
type Loss = (typeof LOSSES)[number];

// ---------------------------------------------------------------------------------------------------------------
// The data: trials, each a list of per-epoch rows.

interface EpochRow {
  epoch: number;
  /** Steps done at the epoch's end. */
  step: number | null;
  losses: Record<Loss, number> | null;
  /** The evaluation at this epoch (train.eval), every metric and floor; null where there was none. */
  metrics: Record<string, number> | null;
}

interface Trial {
  trial: string;
  status: string;
  /** The swept values and the --group keys' values. */
  params: Record<string, unknown>;
  seed: number;
  /** data.source.kind: names the classes of a named dataset. */
  source: string;
  runDir: string | null;
  rows: EpochRow[];
}

/** 7 significant digits: what --jsonl/--csv store, and what every table is computed from, so both agree. */
const compact = (x: number | null | undefined): number => (x === null || x === undefined ? NaN : Number.isFinite(x) ? Number(x.toPrecision(7)) : x);
const groupKeys = (options.group ?? '').split(',').filter(Boolean);
const pathOf = (key: string) => key.split('.');
const getAt = (value: unknown, path: string[]) =>
  path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), value);

function trialFromRun(name: string, runDir: string, status: string, swept: Record<string, unknown>): Trial {
  const config = readRunConfig(runDir);
  const params: Record<string, unknown> = { ...swept };
  for (const key of groupKeys) if (!(key in params)) params[key] = getAt(config, pathOf(key)) ?? null;
  const records = readMetrics(runDir);
  const byEpoch = new Map<number, EpochRow>();
  const rowAt = (epoch: number) => {
    if (!byEpoch.has(epoch)) byEpoch.set(epoch, { epoch, step: null, losses: null, metrics: null });
    return byEpoch.get(epoch)!;
  };
  let lastStep: MetricRecord | undefined;
  for (const record of records) {
    if (record.type === 'step') lastStep = record;
    if (record.type === 'epoch') {
      const row = rowAt(record.epoch);
      row.step = record.step;
      row.losses = Object.fromEntries(LOSSES.map((k) => [k, compact(record[k])])) as Record<Loss, number>;
    }
    if (record.type === 'eval') {
      const row = rowAt(record.epoch);
      row.metrics = Object.fromEntries(Object.entries(record.values).map(([k, v]) => [k, compact(v)]));
      row.step ??= lastStep?.step ?? null;
    }
  }
  const rows = [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
  return { trial: name, status, params, seed: config.seed, source: config.data.source.kind, runDir, rows };
}

const excluded: string[] = [];
function loadTrials(): Trial[] {
  if (options.from) return readJsonl(options.from);
  const trials: Trial[] = [];
  for (const arg of positionals) {
    const [label, dir] = !existsSync(arg) && arg.includes('=') ? (arg.split(/=(.*)/s, 2) as [string, string]) : [undefined, arg];
    if (existsSync(join(dir, 'manifest.json'))) {
      const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as SweepManifest;
      for (const t of manifest.trials) {
        if (t.status !== 'finished' || !t.runDir) {
          excluded.push(`${t.name} (${t.status})`);
          continue;
        }
        trials.push(trialFromRun(t.name, t.runDir, t.status, t.values));
      }
    } else if (existsSync(join(dir, 'config.yaml'))) {
      // Runs under one label are one arm: the run folder tells them apart.
      const name = label === undefined ? basename(dir) : `${label} (${basename(dir)})`;
      trials.push(trialFromRun(name, dir, readRunSummary(dir).status, label === undefined ? {} : { label }));
    } else {
      fail(`${dir}: neither a sweep directory (manifest.json) nor a run directory (config.yaml)`);
    }
  }
  // Trials of several sweeps can share a name: the run folder tells them apart (the raw data is keyed by name).
  const counts = new Map<string, number>();
  for (const t of trials) counts.set(t.trial, (counts.get(t.trial) ?? 0) + 1);
  for (const t of trials) if (counts.get(t.trial)! > 1) t.trial = `${t.trial} (${basename(t.runDir!)})`;
  return trials;
}

function readJsonl(file: string): Trial[] {
  const trials = new Map<string, Trial>();
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const r = JSON.parse(line) as {
      trial: string;
      status: string;
      seed: number;
      source: string;
      params: Record<string, unknown>;
      epoch: number;
      step: number | null;
      metrics: Record<string, number | null> | null;
    } & Record<Loss, number | null>;
    if (!trials.has(r.trial))
      trials.set(r.trial, { trial: r.trial, status: r.status, params: r.params, seed: r.seed, source: r.source, runDir: null, rows: [] });
    const losses = LOSSES.every((k) => r[k] !== null && r[k] !== undefined)
      ? (Object.fromEntries(LOSSES.map((k) => [k, compact(r[k])])) as Record<Loss, number>)
      : null;
    const metrics = r.metrics && Object.fromEntries(Object.entries(r.metrics).map(([k, v]) => [k, compact(v)]));
    trials.get(r.trial)!.rows.push({ epoch: r.epoch, step: r.step, losses, metrics });
  }
  for (const key of groupKeys) {
    const missing = [...trials.values()].find((t) => !(key in t.params));
    if (missing) fail(`${file}: trial ${missing.trial} has no value for ${key} (its params: ${Object.keys(missing.params).join(', ')})`);
  }
  return [...trials.values()];
}

const trials = loadTrials();
if (trials.length === 0) fail(`no finished trials${excluded.length ? ` (left out: ${excluded.join(', ')})` : ''}`);
if (groupKeys.length === 0 && !trials.every((t) => 'label' in t.params)) fail(`--group is needed (or label=run-dir for every run)\n${USAGE}`);

// ---------------------------------------------------------------------------------------------------------------
// Arms, the epoch compared, the metric columns.

const showValue = (value: unknown) =>
  value !== null && typeof value === 'object' ? JSON.stringify(value).replace(/"/g, '').replace(/,/g, ', ') : String(value);
/** Class names for a named dataset's class ids (data.source.classes), e.g. "7 Sneaker". */
function classNamesOf(trial: Trial): string[] | undefined {
  const named = trial.source === 'fashionMnist' ? IDX_DATASETS['fashion-mnist'] : trial.source === 'mnist' ? IDX_DATASETS.mnist : undefined;
  return named?.classNames;
}
const classNames = trials[0] && classNamesOf(trials[0]);
function armOf(trial: Trial): string {
  if (groupKeys.length === 0) return String(trial.params.label);
  return groupKeys
    .map((key) => {
      const value = trial.params[key];
      if (key === 'data.source.classes' && Array.isArray(value) && classNames) return value.map((id) => `${id} ${classNames[id as number]}`).join(', ');
      return showValue(value);
    })
    .join(' / ');
}
const arms = [...new Set(trials.map(armOf))];
const membersOf = (arm: string) => trials.filter((t) => armOf(t) === arm);
const groupTitle = groupKeys.length ? groupKeys.join(' / ') : 'run';

const evalEpochs = (t: Trial) => t.rows.filter((r) => r.metrics).map((r) => r.epoch);
const lossEpochs = (t: Trial) => t.rows.filter((r) => r.losses).map((r) => r.epoch);
const anyEval = trials.some((t) => evalEpochs(t).length > 0);
const epochsOf = (t: Trial) => (anyEval ? evalEpochs(t) : lossEpochs(t));
/** The epoch each trial is compared at. */
function chosenEpochs(): Map<Trial, number> {
  const choice = options.epoch;
  if (choice === 'last') return new Map(trials.map((t) => [t, Math.max(...epochsOf(t))]));
  if (choice === 'common') {
    const common = epochsOf(trials[0]!).filter((e) => trials.every((t) => epochsOf(t).includes(e)));
    if (common.length === 0) fail(`no epoch has an ${anyEval ? 'evaluation' : 'epoch line'} in every trial: use --epoch last or --epoch N`);
    return new Map(trials.map((t) => [t, Math.max(...common)]));
  }
  const epoch = Number(choice);
  if (!Number.isInteger(epoch)) fail(`--epoch ${choice}: common, last or an epoch number`);
  const without = trials.filter((t) => !t.rows.some((r) => r.epoch === epoch));
  if (without.length) fail(`--epoch ${epoch}: not reached by ${without.map((t) => t.trial).join(', ')}`);
  return new Map(trials.map((t) => [t, epoch]));
}
const epochOf = chosenEpochs();
const rowOf = (t: Trial) => t.rows.find((r) => r.epoch === epochOf.get(t))!;

const wanted = options.metrics.split(',').filter(Boolean);
/** Per-level, per-class and per-block values are details: the tables show the summary names (and the histogram). */
const isSummaryName = (name: string) => !/\/(r\d+|c\d+|block\d+)$/.test(name);
const metricColumns = [
  ...new Set(
    trials.flatMap((t) =>
      Object.keys(rowOf(t).metrics ?? {}).filter(
        (name) =>
          !name.startsWith(BASELINE_PREFIX) &&
          isSummaryName(name) &&
          !name.startsWith('class_hist/') &&
          (wanted.length === 0 || wanted.some((w) => name.startsWith(`${w}/`))),
      ),
    ),
  ),
];
const DISTANCE = /^(fd|kid|swd|class_tv|class_max_gap)\//;
const LOWER_BETTER = /^(fd|kid|swd|class_tv|class_max_gap|dead_units|dead_cells)\//;
const NEAR_FLOOR = /^background\//;
/** Shown in the overview, not analysed: a property of the real data, the same for every trial on it. */
const DESCRIPTIVE = /^background_area\//;
const HIGHER_BETTER = /^(precision|recall|class_share)\//;
const valueAt = (t: Trial, name: string): number =>
  LOSSES.includes(name as Loss) ? (rowOf(t).losses?.[name as Loss] ?? NaN) : (rowOf(t).metrics?.[name] ?? NaN);
const floorAt = (t: Trial, name: string): number => rowOf(t).metrics?.[`${BASELINE_PREFIX}${name}`] ?? NaN;
/** A distance over its floor, per trial; NaN where the floor is not positive (KID's unbiased floor can be <= 0). */
const ratioAt = (t: Trial, name: string): number => {
  const floor = floorAt(t, name);
  return floor > 0 ? valueAt(t, name) / floor : NaN;
};

// ---------------------------------------------------------------------------------------------------------------
// Formatting.

const num = (x: number): string => (!Number.isFinite(x) ? '–' : x === 0 || Math.abs(x) >= 0.01 ? x.toFixed(3) : x.toExponential(2));
const pValue = (p: number): string => (!Number.isFinite(p) ? '–' : p >= 0.001 ? p.toFixed(3) : p.toExponential(1));
const meanSd = (xs: number[]) => {
  const s = summarize(xs);
  return xs.length < 2 ? num(s.mean) : `${num(s.mean)} ± ${num(s.sd)}`;
};
const interval = (low: number, high: number) => (Number.isFinite(low) ? `[${num(low)}, ${num(high)}]` : '–');
const cell = (text: string) => text.replaceAll('|', '\\|');
const table = (header: string[], rows: string[][]) => [
  `| ${header.map(cell).join(' | ')} |`,
  `|${header.map(() => '---').join('|')}|`,
  ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
];
const finiteOnly = (xs: number[]) => xs.filter(Number.isFinite);

const out: string[] = [];
const argv = process.argv.slice(2).map((a) => (/^[\w./=,:@+-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`));
out.push(`<!-- node --import tsx scripts/results.ts ${argv.join(' ')} -->`, '');
const epochs = [...new Set(epochOf.values())];
out.push(
  `${trials.length} trials in ${arms.length} arms of ${groupTitle}; compared at ${epochs.length === 1 ? `epoch ${epochs[0]}` : `each trial's last ${anyEval ? 'evaluation' : 'epoch'} (epochs ${epochs.join(', ')})`}` +
    `${anyEval ? '' : ' (no evaluations)'}. Losses and D outputs are epoch means. ± is the sample standard deviation over a group's trials (seeds).` +
    (excluded.length ? ` Left out (not finished): ${excluded.join(', ')}.` : ''),
  '',
);

// ---------------------------------------------------------------------------------------------------------------
// The overview: per arm and per trial (the tables this script has always printed).

const overview = [...LOSSES.filter((l) => trials.some((t) => Number.isFinite(valueAt(t, l)))), ...metricColumns];
const overviewColumns = [...overview, ...metricColumns.filter((name) => trials.some((t) => Number.isFinite(floorAt(t, name)))).map((name) => `floor ${name}`)];
const overviewValue = (t: Trial, column: string) => (column.startsWith('floor ') ? floorAt(t, column.slice(6)) : valueAt(t, column));
out.push(
  ...table(
    [groupTitle, 'trials', ...overviewColumns],
    arms.map((arm) => [arm, String(membersOf(arm).length), ...overviewColumns.map((c) => meanSd(finiteOnly(membersOf(arm).map((t) => overviewValue(t, c)))))]),
  ),
  '',
);
out.push(
  ...table(
    ['trial', 'seed', 'epoch', ...overviewColumns],
    trials.map((t) => [t.trial, String(t.seed), String(epochOf.get(t)), ...overviewColumns.map((c) => num(overviewValue(t, c)))]),
  ),
  '',
);

// ---------------------------------------------------------------------------------------------------------------
// Per metric: intervals, floors, ratios, and the paired comparisons with the baseline.

const baseline =
  options.baseline === undefined ? undefined : arms.find((a) => a === options.baseline || a.replace(/\s/g, '') === options.baseline!.replace(/\s/g, ''));
if (options.baseline !== undefined && baseline === undefined)
  fail(`--baseline ${options.baseline}: no such arm; the arms are ${arms.map((a) => `'${a}'`).join(', ')}`);

/** seed -> trial of an arm; undefined when a seed repeats (another swept key varies within the arm). */
function bySeed(arm: string): Map<number, Trial> | undefined {
  const map = new Map<number, Trial>();
  for (const t of membersOf(arm)) {
    if (map.has(t.seed)) return undefined;
    map.set(t.seed, t);
  }
  return map;
}

const notes = new Set<string>();
const COMPARISON_HEADER = [
  'arm',
  'quantity',
  'pairs',
  'mean diff',
  '95% CI',
  'paired t p',
  'sign-flip p',
  'd_z',
  'Holm t p',
  'Holm sign-flip p',
  'Welch p',
  'significant',
];
function comparisonRows(quantity: string, of: (t: Trial) => number): string[][] {
  const base = bySeed(baseline!);
  const others = arms.filter((a) => a !== baseline);
  const tests = others.map((arm) => {
    const mine = bySeed(arm);
    if (!base || !mine) {
      notes.add(`${!base ? baseline : arm}: a seed repeats in the arm (another key varies in it), so it cannot be paired: group by more keys (--group a,b)`);
      return { arm, pairs: 0 };
    }
    const seeds = [...mine.keys()].filter((s) => base.has(s) && Number.isFinite(of(mine.get(s)!)) && Number.isFinite(of(base.get(s)!)));
    const x = seeds.map((s) => of(mine.get(s)!));
    const y = seeds.map((s) => of(base.get(s)!));
    if (seeds.length < 2) return { arm, pairs: seeds.length };
    const xs = finiteOnly(membersOf(arm).map(of));
    const ys = finiteOnly(membersOf(baseline!).map(of));
    return {
      arm,
      pairs: seeds.length,
      t: pairedTTest(x, y),
      flip: signFlipTest(x, y),
      welch: xs.length >= 2 && ys.length >= 2 ? welchTTest(xs, ys) : undefined,
    };
  });
  const adjustedT = holm(tests.map((r) => r.t?.p ?? NaN));
  const adjustedFlip = holm(tests.map((r) => r.flip?.p ?? NaN));
  return tests.map((r, i) => {
    if (!r.t) return [r.arm, quantity, String(r.pairs), '–', '–', '–', '–', '–', '–', '–', '–', 'too few pairs'];
    if (r.flip!.minP > 0.05)
      notes.add(`with ${r.pairs} pairs the exact sign-flip test cannot go below p = ${pValue(r.flip!.minP)}: it cannot reach 0.05 at any effect`);
    const byT = adjustedT[i]! < 0.05;
    const byFlip = adjustedFlip[i]! < 0.05;
    return [
      r.arm,
      quantity,
      String(r.pairs),
      num(r.t.meanDiff),
      interval(r.t.low, r.t.high),
      pValue(r.t.p),
      `${pValue(r.flip!.p)}${r.flip!.exact ? '' : ' (sampled)'}`,
      num(r.t.dz),
      pValue(adjustedT[i]!),
      pValue(adjustedFlip[i]!),
      r.welch ? pValue(r.welch.p) : '–',
      byT && byFlip ? 'yes (both)' : byT ? 't only' : byFlip ? 'sign-flip only' : 'no',
    ];
  });
}

for (const name of metricColumns.filter((n) => !DESCRIPTIVE.test(n))) {
  const hasFloor = trials.some((t) => Number.isFinite(floorAt(t, name)));
  const distance = DISTANCE.test(name) && hasFloor;
  const direction = LOWER_BETTER.test(name)
    ? 'lower is better'
    : HIGHER_BETTER.test(name)
      ? 'higher is better'
      : NEAR_FLOOR.test(name)
        ? "closer to the real images' value (the floor column) is better"
        : 'no better direction';
  out.push(`### ${name}`, '');
  out.push(
    `${direction}.` +
      (hasFloor ? ` Floor: ${BASELINE_PREFIX}${name}, the same measure on a second real sample of the same size (per trial; mean over the arm here).` : '') +
      (distance
        ? " x floor: each trial's value divided by its own floor, then summarised (left out where a floor is <= 0, as KID's unbiased one can be)."
        : '') +
      " 95% CI: Student t interval of the mean over the arm's seeds.",
    '',
  );
  const header = [groupTitle, 'seeds', 'mean ± sd', '95% CI', ...(hasFloor ? ['floor'] : []), ...(distance ? ['x floor (mean ± sd)', 'x floor 95% CI'] : [])];
  const rows = arms.map((arm) => {
    const members = membersOf(arm);
    const values = finiteOnly(members.map((t) => valueAt(t, name)));
    const s = summarize(values);
    const row = [arm, String(values.length), meanSd(values), interval(s.low, s.high)];
    if (hasFloor) row.push(meanSd(finiteOnly(members.map((t) => floorAt(t, name)))));
    if (distance) {
      const ratios = finiteOnly(members.map((t) => ratioAt(t, name)));
      const r = summarize(ratios);
      row.push(ratios.length ? meanSd(ratios) : '–', interval(r.low, r.high));
    }
    return row;
  });
  out.push(...table(header, rows), '');
  if (baseline !== undefined && arms.length > 1) {
    out.push(
      `Against ${baseline}, paired by seed: difference = arm - baseline, its mean and 95% t interval; p-values two-sided; ` +
        `Holm adjusts each test's p-values over the ${arms.length - 1} comparison${arms.length === 2 ? '' : 's'} with the baseline; ` +
        'significant: Holm p < 0.05 by the paired t-test, the sign-flip test, or both (no: neither).',
      '',
    );
    const compared = [...comparisonRows('value', (t) => valueAt(t, name)), ...(distance ? comparisonRows('x floor', (t) => ratioAt(t, name)) : [])];
    out.push(...table(COMPARISON_HEADER, compared), '');
  }
}
if (baseline !== undefined) {
  for (const loss of LOSSES.filter((l) => trials.some((t) => Number.isFinite(valueAt(t, l))))) {
    if (loss !== 'dReal' && loss !== 'dFake') continue;
    out.push(`### ${loss} (epoch mean) against ${baseline}`, '');
    out.push(
      ...table(
        COMPARISON_HEADER,
        comparisonRows('value', (t) => valueAt(t, loss)),
      ),
      '',
    );
  }
}
if (notes.size) out.push(...[...notes].map((n) => `Note: ${n}.`), '');

// ---------------------------------------------------------------------------------------------------------------
// Class histograms: the share of generated (and of real) images the classifier puts in each class.

const histogramTags = [...new Set(trials.flatMap((t) => Object.keys(rowOf(t).metrics ?? {}).flatMap((n) => /^class_hist\/(.+)\/c\d+$/.exec(n)?.[1] ?? [])))];
for (const tag of histogramTags) {
  const ids = [
    ...new Set(
      trials.flatMap((t) =>
        Object.keys(rowOf(t).metrics ?? {}).flatMap((n) => (n.startsWith(`class_hist/${tag}/c`) ? [Number(n.slice(`class_hist/${tag}/c`.length))] : [])),
      ),
    ),
  ].sort((a, b) => a - b);
  out.push(`### Class histogram, class_hist/${tag}`, '');
  out.push(
    "The share of images the classifier assigns to each class, mean over the arm's seeds: generated, and the second real sample (the floor sample) of the same trials.",
    '',
  );
  const rows = arms.flatMap((arm) =>
    ['generated', 'real'].map((set) => [
      set === 'generated' ? arm : '',
      set,
      ...ids.map((id) =>
        num(
          summarize(finiteOnly(membersOf(arm).map((t) => rowOf(t).metrics?.[`${set === 'real' ? BASELINE_PREFIX : ''}class_hist/${tag}/c${id}`] ?? NaN))).mean,
        ),
      ),
    ]),
  );
  out.push(...table([groupTitle, 'images', ...ids.map((id) => (classNames ? `${id} ${classNames[id]}` : `c${id}`))], rows), '');
}

// ---------------------------------------------------------------------------------------------------------------
// Trajectories over training.

/** The names a --trajectory argument means: a loss, a full metric name, or the summary names under a prefix. */
function trajectoryNames(metric: string): string[] {
  if (LOSSES.includes(metric as Loss)) return [metric];
  const all = new Set(trials.flatMap((t) => t.rows.flatMap((r) => Object.keys(r.metrics ?? {}))));
  if (all.has(metric)) return [metric];
  const under = [...all].filter((n) => n.startsWith(`${metric}/`) && isSummaryName(n));
  if (under.length === 0) fail(`--trajectory ${metric}: no such loss (${LOSSES.join(', ')}) or metric`);
  return under;
}
/** Legends have room for about 14 characters: the values without keys and braces, cut there. */
const legendLabel = (arm: string) => {
  const short = arm.replace(/[{}]/g, '').replace(/\w+:/g, '').replace(/,\s*/g, ' ').trim();
  return short.length > 14 ? `${short.slice(0, 13)}…` : short;
};
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
for (const metric of options.trajectory) {
  for (const name of trajectoryNames(metric)) {
    const at = (t: Trial, epoch: number) => {
      const row = t.rows.find((r) => r.epoch === epoch);
      return (LOSSES.includes(name as Loss) ? row?.losses?.[name as Loss] : row?.metrics?.[name]) ?? NaN;
    };
    const epochsWith = [...new Set(trials.flatMap((t) => t.rows.filter((r) => Number.isFinite(at(t, r.epoch))).map((r) => r.epoch)))].sort((a, b) => a - b);
    out.push(`### Trajectory: ${name}`, '');
    out.push(
      `Mean ± sd over each arm's seeds at every epoch with a value${LOSSES.includes(name as Loss) ? ' (epoch means)' : ''}; (k) where only k seeds have one.`,
      '',
    );
    const rows = epochsWith.map((epoch) => [
      String(epoch),
      ...arms.map((arm) => {
        const values = finiteOnly(membersOf(arm).map((t) => at(t, epoch)));
        return values.length === 0 ? '' : `${meanSd(values)}${values.length < membersOf(arm).length ? ` (${values.length})` : ''}`;
      }),
    ]);
    out.push(...table(['epoch', ...arms], rows), '');
    if (options.plots) {
      mkdirSync(options.plots, { recursive: true });
      const last = Math.max(...epochsWith);
      // One point per epoch 1..last (NaN where there is no value), so the x axis counts epochs.
      const series = arms.map((arm, i) => ({
        label: legendLabel(arm),
        colour: PALETTE[i % PALETTE.length]!,
        values: Array.from({ length: last }, (_, e) => {
          const values = finiteOnly(membersOf(arm).map((t) => at(t, e + 1)));
          return values.length ? summarize(values).mean : NaN;
        }),
      }));
      const file = join(options.plots, `trajectory-${name.replace(/[^\w.-]+/g, '_')}.png`);
      writeFileSync(file, await lineChartPng(series, { x: 'epoch', y: name }, { width: 800, height: 420 }));
      out.push(`![${name}](${file})`, '');
    }
  }
}

process.stdout.write(`${out.join('\n').trimEnd()}\n`);

// ---------------------------------------------------------------------------------------------------------------
// Raw data.

const allMetricNames = [...new Set(trials.flatMap((t) => t.rows.flatMap((r) => Object.keys(r.metrics ?? {}))))].sort();
const jsonNumber = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? null : x);
if (options.jsonl) {
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
  mkdirSync(dirname(options.jsonl), { recursive: true });
  writeFileSync(options.jsonl, `${lines.join('\n')}\n`);
}
if (options.csv) {
  const field = (text: string) => (/[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text);
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
        .map(field)
        .join(','),
    ),
  );
  mkdirSync(dirname(options.csv), { recursive: true });
  writeFileSync(options.csv, `${[header.map(field).join(','), ...lines].join('\n')}\n`);
}

// ---------------------------------------------------------------------------------------------------------------
// Grids: the trial's last sample grid, its loss plot, a grid of its own real images, and the two side by side.

if (options.grids) {
  mkdirSync(options.grids, { recursive: true });
  const datasets = new Map<string, Awaited<ReturnType<typeof loadDataset>>>();
  for (const t of trials) {
    const samples = readdirSync(join(t.runDir!, 'samples')).sort();
    const generatedFile = join(options.grids, `${t.trial}.png`);
    copyFileSync(join(t.runDir!, 'samples', samples[samples.length - 1]!), generatedFile);
    if (existsSync(join(t.runDir!, 'losses.png'))) copyFileSync(join(t.runDir!, 'losses.png'), join(options.grids, `${t.trial}-losses.png`));
    const config: Experiment = readRunConfig(t.runDir!);
    const key = JSON.stringify(config.data);
    if (!datasets.has(key)) datasets.set(key, await loadDataset(config.data, { cacheDir: cacheFolder('data') }));
    const dataset = datasets.get(key)!;
    const count = Math.min(config.train.samples.count, dataset.count);
    const order = new Rng(deriveSeed(config.seed, 'results/real-grid')).permutation(dataset.count).subarray(0, count);
    const real = imagesFromDataset(dataset, order);
    const identity = { mean: Array(real.channels).fill(0), std: Array(real.channels).fill(1) };
    const realPng = await imageGridPng(real.data, real, identity, Math.min(7, count));
    writeFileSync(join(options.grids, `${t.trial}-real.png`), realPng);
    const epochLabel = samples[samples.length - 1]!.replace(/\.png$/, '');
    writeFileSync(
      join(options.grids, `${t.trial}-side.png`),
      await sideBySide(realPng, await sharp(generatedFile).png().toBuffer(), ['real', `generated (${epochLabel})`]),
    );
  }
}

/** Two PNGs next to each other on white, each under its label. */
async function sideBySide(left: Buffer, right: Buffer, labels: [string, string]): Promise<Buffer> {
  const widest = Math.max(...(await Promise.all([left, right].map(async (png) => (await sharp(png).metadata()).width!))));
  // Small grids are enlarged (pixels kept sharp) to about 200 pixels or more.
  const scale = Math.min(4, Math.max(1, Math.ceil(200 / widest)));
  const [a, b] = await Promise.all(
    [left, right].map(async (png, i) => {
      const meta = await sharp(png).metadata();
      const width = meta.width! * scale;
      const height = meta.height! * scale;
      const resized = await sharp(png).resize(width, height, { kernel: 'nearest' }).png().toBuffer();
      // At least as wide as its label (about 8 pixels a character).
      const room = Math.max(width, 8 * labels[i]!.length + 8);
      return { buffer: resized, width: room, height, offset: Math.floor((room - width) / 2) };
    }),
  );
  const gap = 16;
  const top = 22;
  const width = a!.width + gap + b!.width;
  const height = top + Math.max(a!.height, b!.height);
  const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  const text = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${top}"><g font-family="sans-serif" font-size="14" fill="#333">
    <text x="${a!.width / 2}" y="16" text-anchor="middle">${escape(labels[0])}</text>
    <text x="${a!.width + gap + b!.width / 2}" y="16" text-anchor="middle">${escape(labels[1])}</text></g></svg>`;
  return sharp({ create: { width, height, channels: 3, background: '#ffffff' } })
    .composite([
      { input: Buffer.from(text), left: 0, top: 0 },
      { input: a!.buffer, left: a!.offset, top },
      { input: b!.buffer, left: a!.width + gap + b!.offset, top },
    ])
    .png()
    .toBuffer();
}
