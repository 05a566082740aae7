// A run directory read into what its report shows: status and facts, losses per step and per epoch, the
// quality metrics with their real-vs-real floors, and its sample grids.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COLLAPSE_RATIO, COLOUR_COLLAPSE_RATIO } from '../track/collapse-thresholds.ts';
import { readMetrics, UNTRAINED_SAMPLE_FILE } from '../track/run-dir.ts';
import type { LossRecord, MetricRecord } from '../track/run-types.ts';
import { readRunState } from '../track/run-state.ts';
import type { LossSeries, MetricSeries, RunReportData } from './report-data.ts';

const FLOOR_PREFIX = 'real_vs_real/';

function lossSeries(records: LossRecord[]): LossSeries {
  return {
    step: records.map((r) => r.step),
    epoch: records.map((r) => r.epoch),
    lossD: records.map((r) => r.lossD),
    lossG: records.map((r) => r.lossG),
    dReal: records.map((r) => r.dReal),
    dFake: records.map((r) => r.dFake),
  };
}

/** The metrics worth a plot: not the floors themselves, nor per-class histogram bins or KID's spread. */
export function isHeadlineMetric(name: string): boolean {
  return !name.startsWith(FLOOR_PREFIX) && !name.startsWith('class_hist/') && !name.startsWith('kid_std/');
}

function evalSeries(records: Extract<MetricRecord, { type: 'eval' }>[]): RunReportData['evals'] {
  const names = [...new Set(records.flatMap((r) => Object.keys(r.values)))].filter(isHeadlineMetric);
  const metrics: MetricSeries[] = names.map((name) => ({
    name,
    values: records.map((r) => r.values[name] ?? null),
    floor: records.map((r) => r.values[FLOOR_PREFIX + name] ?? null),
  }));
  return { epoch: records.map((r) => r.epoch), metrics };
}

/** The epochs whose line carries the grid's spread (runs from before it was measured have none). */
function spreadSeries(records: Extract<LossRecord, { type: 'epoch' }>[]): RunReportData['spread'] {
  const measured = records.filter((r) => r.sampleSpread !== undefined);
  if (measured.length === 0) return null;
  return {
    epoch: measured.map((r) => r.epoch),
    pixels: measured.map((r) => r.sampleSpread!.pixels),
    colours: measured.map((r) => r.sampleSpread!.colours),
    thresholds: { pixels: COLLAPSE_RATIO, colours: COLOUR_COLLAPSE_RATIO },
  };
}

/** samples/epoch-NNNN.png relative to the run directory, by epoch; the untrained grid is epoch 0. */
export function sampleFiles(runDir: string): { epoch: number; file: string }[] {
  const grids = existsSync(join(runDir, 'samples')) ? readdirSync(join(runDir, 'samples')) : [];
  const trained = grids
    .map((name) => /^epoch-(\d+)\.png$/.exec(name))
    .filter((match) => match !== null)
    .map((match) => ({ epoch: Number(match[1]), file: `samples/${match[0]}` }))
    .sort((a, b) => a.epoch - b.epoch);
  return existsSync(join(runDir, UNTRAINED_SAMPLE_FILE)) ? [{ epoch: 0, file: UNTRAINED_SAMPLE_FILE }, ...trained] : trained;
}

export function formatSeconds(seconds: number): string {
  if (seconds < 90) return `${seconds.toFixed(1)} s`;
  if (seconds < 5400) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(2)} h`;
}

/** Everything but the generator and the nearest images, which need TF.js and the data (src/report/run-report.ts). */
export function readRunData(runDir: string): Omit<RunReportData, 'samples' | 'generator' | 'nearest'> {
  const state = readRunState(runDir);
  const { summary } = state;
  const records = existsSync(join(runDir, 'metrics.jsonl')) ? readMetrics(runDir) : [];
  const info = existsSync(join(runDir, 'run-info.json')) ? (JSON.parse(readFileSync(join(runDir, 'run-info.json'), 'utf8')) as Record<string, unknown>) : {};
  const steps = records.filter((r): r is Extract<LossRecord, { type: 'step' }> => r.type === 'step');
  const epochRecords = records.filter((r): r is Extract<LossRecord, { type: 'epoch' }> => r.type === 'epoch');
  const epochs = lossSeries(epochRecords);
  // An epoch line's step is its epoch (MLflow's x); on the steps' axis its mean belongs at the epoch's last step.
  const lastStep = new Map(steps.map((r) => [r.epoch, r.step]));
  const facts: [string, string][] = [
    ['status', state.status],
    ['epochs', `${summary.epochsDone} of ${summary.epochs}`],
    ['steps', String(summary.steps)],
    ['backend', summary.backend],
    [
      'versions',
      Object.entries(summary.versions)
        .map(([name, version]) => `${name} ${version}`)
        .join(', '),
    ],
    ['wall time', formatSeconds(summary.wallSeconds)],
    ['dataset', summary.dataset],
    ['started', summary.startedAt],
    ['config file', String(info.configFile ?? '')],
    ['git commit', String(info.gitCommit ?? '')],
  ];
  return {
    kind: 'run',
    experiment: summary.experiment,
    runId: summary.runId,
    status: state.status,
    statusDetail: summary.error ?? state.crash ?? null,
    facts: facts.filter(([, value]) => value !== ''),
    warnings: (summary.warnings ?? []).map((w) => `epoch ${w.epoch}: ${w.message}`),
    configYaml: readFileSync(join(runDir, 'config.yaml'), 'utf8'),
    steps: lossSeries(steps),
    epochs: { ...epochs, step: epochs.epoch.map((epoch) => lastStep.get(epoch) ?? epoch * (summary.position?.stepsPerEpoch ?? 1)) },
    evals: evalSeries(records.filter((r): r is Extract<MetricRecord, { type: 'eval' }> => r.type === 'eval')),
    spread: spreadSeries(epochRecords),
    best: summary.best ?? null,
  };
}
