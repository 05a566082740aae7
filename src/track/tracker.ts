import type { MetricRecord, RunInfo, RunStatus, RunWarning } from './run-types.ts';

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
