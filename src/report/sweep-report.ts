// `dcgan-run report <sweep-dir>`: the sweep's page, with each trial's own run page under trials/NNN/, all
// sharing one copy of the page scripts.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SweepDirectory, type TrialRecord } from '../track/sweep-manifest.ts';
import { readRunSummary } from '../track/run-dir.ts';
import { SWEEP_SCRIPT, writePageAssets } from './bundle.ts';
import { writePage } from './html.ts';
import { isHeadlineMetric, sampleFiles } from './run-data.ts';
import { prepareReportFolder, writeRunPage, type ReportOptions } from './run-report.ts';
import type { CellValue, SweepReportData, SweepTrialRow } from './report-data.ts';

const LOSS_COLUMNS = ['lossD', 'lossG', 'dReal', 'dFake'] as const;

/** A run directory with enough in it for a page: a trial that failed before training has none. */
const hasRun = (runDir: string | null): runDir is string =>
  runDir !== null && existsSync(join(runDir, 'config.yaml')) && existsSync(join(runDir, 'summary.json'));

function cell(value: unknown): CellValue {
  return typeof value === 'number' || typeof value === 'string' ? value : value === null || value === undefined ? null : JSON.stringify(value);
}

/** Final losses, the last quality metrics and the best checkpoint's value. */
function trialMetrics(trial: TrialRecord): Record<string, number> {
  const metrics: Record<string, number> = {};
  for (const column of LOSS_COLUMNS) if (trial.metrics) metrics[column] = trial.metrics[column];
  if (hasRun(trial.runDir)) {
    const summary = readRunSummary(trial.runDir);
    for (const [name, value] of Object.entries(summary.lastEval?.values ?? {})) if (isHeadlineMetric(name)) metrics[name] = value;
    if (summary.best) metrics[`best ${summary.best.metric}`] = summary.best.value;
  }
  return metrics;
}

async function trialRow(trial: TrialRecord, out: string, log: (line: string) => void): Promise<SweepTrialRow> {
  const folder = `trials/${String(trial.index).padStart(3, '0')}`;
  const row: SweepTrialRow = {
    index: trial.index,
    name: trial.name,
    status: trial.status,
    values: Object.fromEntries(Object.entries(trial.values).map(([key, value]) => [key, cell(value)])),
    metrics: trialMetrics(trial),
    epochsDone: trial.epochsDone ?? 0,
    wallSeconds: trial.wallSeconds,
    reason: trial.error ?? (trial.status === 'pending' ? 'not started' : null),
    report: null,
    samples: {},
  };
  if (hasRun(trial.runDir)) {
    await writeRunPage(trial.runDir, join(out, folder), '../../assets', log);
    row.report = `${folder}/index.html`;
    for (const { epoch, file } of sampleFiles(trial.runDir)) row.samples[epoch] = `${folder}/${file}`;
  }
  return row;
}

/** The metric the parallel coordinates start with: FD where the classifier ran, else the averaged patch SWD, else G's loss. */
function headline(metrics: string[]): string | null {
  return (
    metrics.find((m) => m.startsWith('fd/')) ?? metrics.find((m) => m.startsWith('swd/') && m.endsWith('/avg')) ?? metrics.find((m) => m === 'lossG') ?? null
  );
}

/** Writes the report of a sweep directory and of each trial that ran; returns the report folder. Needs a TF.js backend set. */
export async function writeSweepReport(sweepDir: string, options: ReportOptions = {}): Promise<string> {
  const out = options.out ?? join(sweepDir, 'report');
  const log = options.log ?? (() => {});
  const { manifest } = SweepDirectory.open(sweepDir);
  prepareReportFolder(out);
  await writePageAssets(join(out, 'assets'), ['run', 'sweep']);
  const trials: SweepTrialRow[] = [];
  for (const trial of manifest.trials) trials.push(await trialRow(trial, out, log));
  const parameters = [...new Set(manifest.trials.flatMap((t) => Object.keys(t.values)))];
  const metrics = [...new Set(trials.flatMap((t) => Object.keys(t.metrics)))];
  const statuses = [...new Set(manifest.trials.map((t) => t.status))];
  const counts = statuses.map((status) => `${manifest.trials.filter((t) => t.status === status).length} ${status}`);
  const data: SweepReportData = {
    kind: 'sweep',
    experiment: manifest.experiment,
    sweepId: manifest.sweepId,
    status: manifest.status,
    facts: [
      ['status', manifest.status],
      ['trials', counts.join(', ')],
      ['strategy', `${manifest.strategy}, ${manifest.parallel} at a time`],
      ['config file', manifest.configFile],
      ['created', manifest.createdAt],
      ['updated', manifest.updatedAt],
    ],
    parameters,
    metrics,
    defaultMetric: headline(metrics),
    maxEpoch: Math.max(0, ...trials.flatMap((t) => Object.keys(t.samples).map(Number))),
    trials,
  };
  writePage(out, data, 'assets', SWEEP_SCRIPT);
  return out;
}
