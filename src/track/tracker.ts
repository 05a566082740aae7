import type { Experiment } from '../config/experiment.generated.ts';
import type { MetricRecord, RunStatus, RunWarning } from './run-dir.ts';

export interface RunInfo {
  experiment: string;
  runId: string;
  runDir: string;
  config: Experiment;
  configFile: string;
  backend: string;
  versions: Record<string, string>;
  datasetSize: number;
  /** Set for a trial of a sweep: the MLflow run id of the sweep's parent run. */
  parentRunId?: string;
  /** The run goes on from a checkpoint (dcgan-run resume): its MLflow run is reattached, not created. */
  resumed?: boolean;
}

/**
 * Something that records a run besides its local directory (an MLflow server). Logging calls must not
 * block training: implementations queue them and flush in the background.
 */
export interface Tracker {
  start(info: RunInfo): Promise<void>;
  logMetrics(records: MetricRecord[]): void;
  logImage(key: string, step: number, png: Uint8Array): void;
  logArtifact(localPath: string, artifactPath: string): void;
  /** A sign of a failing run (src/train/health.ts), reported once per kind. */
  logWarning(warning: RunWarning): void;
  finish(status: RunStatus, error?: string): Promise<void>;
}
