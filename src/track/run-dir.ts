import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parse, stringify } from 'yaml';
import type { Experiment } from '../config/experiment.generated.ts';
import { checkAgainstSchema } from '../config/schema.ts';
import { UserError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { redactCredentials } from './redact.ts';
import { currentOwner } from './run-owner.ts';
import type { LossRecord, MetricRecord, RunSummary } from './run-types.ts';

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

export function readLossRecords(path: string): LossRecord[] {
  return readMetrics(path).filter((record): record is LossRecord => record.type !== 'eval');
}

export function readMetrics(path: string): MetricRecord[] {
  return readFileSync(join(path, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as MetricRecord);
}

/** metrics.jsonl without a last line cut short by a crash. */
export function readMetricLines(runDir: string): MetricRecord[] {
  const path = join(runDir, 'metrics.jsonl');
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n');
  lines.pop(); // After the last newline: empty, or a line still being written.
  return lines.filter(Boolean).map((line) => JSON.parse(line) as MetricRecord);
}

/** The resolved config a run directory keeps; a folder without one is not a run directory. */
export function readRunConfig(runDir: string): Experiment {
  const path = join(runDir, 'config.yaml');
  if (!existsSync(path)) throw new UserError(`${runDir}: not a run directory (no config.yaml)`);
  const config = parse(readFileSync(path, 'utf8')) as Experiment;
  // Keys added to the schema since the run was written take their defaults, as the run's config would now
  // (resume compares it with one loaded today). It was valid when written: what no longer validates is left as is.
  checkAgainstSchema(config);
  return config;
}

export function readRunSummary(runDir: string): RunSummary {
  return JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as RunSummary;
}
