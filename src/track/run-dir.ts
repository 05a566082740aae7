import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parse, stringify } from 'yaml';
import type { Experiment } from '../config/experiment.generated.ts';
import { UserError } from '../errors.ts';
import { writeFileAtomic } from './atomic.ts';
import { redactCredentials } from './params.ts';
import { currentOwner, type RunOwner } from './run-owner.ts';

/** As written by the trainer; readers may also show 'crashed' (src/track/run-status.ts), which is derived and never written. */
export type RunStatus = 'running' | 'finished' | 'stopped' | 'failed';

/** One line of metrics.jsonl. */
export type MetricRecord =
  | { type: 'step'; step: number; epoch: number; lossD: number; lossG: number; dReal: number; dFake: number; imagesPerSec: number; time: number }
  | { type: 'epoch'; step: number; epoch: number; lossD: number; lossG: number; dReal: number; dFake: number; imagesPerSec: number; epochSeconds: number; time: number }
  /** Sample-quality metrics (src/eval), by name, at an epoch's end. */
  | { type: 'eval'; step: number; epoch: number; values: Record<string, number>; time: number };

export interface RunSummary {
  status: RunStatus;
  experiment: string;
  runId: string;
  epochsDone: number;
  epochs: number;
  steps: number;
  finalLosses: { lossD: number; lossG: number } | null;
  backend: string;
  versions: Record<string, string>;
  dataset: string;
  startedAt: string;
  wallSeconds: number;
  /** The last train.eval results. */
  lastEval?: { epoch: number; values: Record<string, number> };
  /** train.checkpoint.keepBest: the metric, its best value and the epoch of checkpoints/best/. */
  best?: { metric: string; value: number; epoch: number };
  /** Signs of a failing run seen while it trained (src/train/health.ts), in the order they were seen. */
  warnings?: RunWarning[];
  error?: string;
  /** Where training stands: the epoch in progress (or last done) and its steps done; a stop within an epoch leaves stepInEpoch < stepsPerEpoch. */
  position?: { epoch: number; stepInEpoch: number; stepsPerEpoch: number };
  /** The process that last wrote the summary; absent in summaries from before owners were recorded. */
  owner?: RunOwner;
}

export interface RunWarning {
  kind: string;
  /** The epoch at which it was reported. */
  epoch: number;
  message: string;
}

export const UNTRAINED_SAMPLE_FILE = 'samples-untrained.png';

/** A new run id: sortable by start time, unique across parallel runs. */
export function newRunId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

/** The local record of a run: runs/<experiment>/<run-id>/, written as the run goes. */
export class RunDirectory {
  readonly path: string;

  constructor(
    root: string,
    readonly experiment: string,
    readonly runId: string,
  ) {
    this.path = join(root, experiment, runId);
    mkdirSync(join(this.path, 'samples'), { recursive: true });
  }

  file(...parts: string[]): string {
    return join(this.path, ...parts);
  }

  writeConfig(config: Experiment): void {
    // A password in tracking.mlflow.uri stays out of files that get uploaded and shared.
    writeFileAtomic(this.file('config.yaml'), `# Resolved config of run ${this.runId} (defaults filled)\n${redactCredentials(stringify(config))}`);
  }

  appendMetrics(records: MetricRecord[]): void {
    if (records.length === 0) return;
    appendFileSync(this.file('metrics.jsonl'), records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  }

  /** The writer is the run's owner: a resumed run is owned by the process that resumed it. */
  /** Also stamps the summary with its owner: the process that writes it is the one training the run. */
  writeSummary(summary: RunSummary): void {
    summary.owner = currentOwner();
    writeFileAtomic(this.file('summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  }

  writeSample(epoch: number, png: Uint8Array): string {
    const path = this.file('samples', `epoch-${String(epoch).padStart(4, '0')}.png`);
    writeFileAtomic(path, png);
    return path;
  }

  /** The grid before training: beside samples/ (which holds a grid per epoch trained), step 0 in MLflow. */
  writeUntrainedSample(png: Uint8Array): void {
    writeFileAtomic(this.file(UNTRAINED_SAMPLE_FILE), png);
  }

  writeLossPlot(png: Uint8Array): void {
    writeFileAtomic(this.file('losses.png'), png);
  }
}

/** The step and epoch lines: losses, D outputs and speed. */
export type LossRecord = Exclude<MetricRecord, { type: 'eval' }>;

export function readLossRecords(path: string): LossRecord[] {
  return readMetrics(path).filter((record): record is LossRecord => record.type !== 'eval');
}

export function readMetrics(path: string): MetricRecord[] {
  return readFileSync(join(path, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as MetricRecord);
}

/** The resolved config a run directory keeps; a folder without one is not a run directory. */
export function readRunConfig(runDir: string): Experiment {
  const path = join(runDir, 'config.yaml');
  if (!existsSync(path)) throw new UserError(`${runDir}: not a run directory (no config.yaml)`);
  return parse(readFileSync(path, 'utf8')) as Experiment;
}

export function readRunSummary(runDir: string): RunSummary {
  return JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as RunSummary;
}
