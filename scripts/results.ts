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
// The parts are in scripts/results/.
//
//   node --import tsx scripts/results.ts <sweep-dir | [label=]run-dir> ... --group <key>[,key]
//     [--metrics swd,fd,kid,...] [--epoch common|last|N] [--baseline <arm>] [--trajectory <metric>]... [--plots DIR]
//     [--jsonl FILE] [--csv FILE] [--grids DIR]
//   node --import tsx scripts/results.ts --from docs/results/ablation.jsonl --group <key> [...]
import { parseArgs } from 'node:util';
import { UserError } from '../src/errors.ts';
import { findBaseline, groupIntoArms } from './results/arms.ts';
import { classHistograms } from './results/class-histograms.ts';
import { compareAt } from './results/compared-epoch.ts';
import { writeGrids } from './results/grids.ts';
import { metricColumns } from './results/metric-kinds.ts';
import { metricSections } from './results/metric-sections.ts';
import { commandLine, overview } from './results/overview.ts';
import { readRawJsonl, writeRawCsv, writeRawJsonl } from './results/raw-data.ts';
import { readRunTrials } from './results/read-runs.ts';
import { trajectories } from './results/trajectories.ts';
import { classNamesOf } from './results/trials.ts';

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

async function main(): Promise<void> {
  if ((positionals.length === 0) === !options.from) throw new UserError(USAGE);
  if (options.from && options.grids) throw new UserError('--grids needs the run directories, not --from');
  const groupKeys = (options.group ?? '').split(',').filter(Boolean);

  const { trials, excluded } = options.from ? { trials: readRawJsonl(options.from, groupKeys), excluded: [] } : readRunTrials(positionals, groupKeys);
  if (trials.length === 0) throw new UserError(`no finished trials${excluded.length ? ` (left out: ${excluded.join(', ')})` : ''}`);
  if (groupKeys.length === 0 && !trials.every((t) => 'label' in t.params)) throw new UserError(`--group is needed (or label=run-dir for every run)\n${USAGE}`);

  const classNames = classNamesOf(trials[0]!);
  const arms = groupIntoArms(trials, groupKeys, classNames);
  const at = compareAt(trials, options.epoch);
  const metrics = metricColumns(trials.map(at.row), options.metrics.split(',').filter(Boolean));
  const baseline = options.baseline === undefined ? undefined : findBaseline(arms, options.baseline);

  const markdown = [
    ...commandLine(process.argv.slice(2)),
    ...overview(trials, excluded, arms, at, metrics),
    ...metricSections(trials, arms, at, metrics, baseline),
    ...classHistograms(trials, arms, at, classNames),
    ...(await trajectories(trials, arms, options.trajectory, options.plots)),
  ];
  process.stdout.write(`${markdown.join('\n').trimEnd()}\n`);

  if (options.jsonl) writeRawJsonl(options.jsonl, trials);
  if (options.csv) writeRawCsv(options.csv, trials);
  if (options.grids) await writeGrids(options.grids, trials);
}

try {
  await main();
} catch (error) {
  if (!(error instanceof UserError)) throw error;
  process.stderr.write(`results.ts: ${error.message}\n`);
  process.exit(2);
}
