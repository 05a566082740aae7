// Messages between the sweep process and a trial's worker process (Node IPC, JSON).
import type { Experiment } from '../config/experiment.generated.ts';
import type { RunSummary } from '../track/run-types.ts';
import type { FinalMetrics } from './manifest.ts';

export interface StartTrial {
  type: 'start';
  trialName: string;
  config: Experiment;
  configFile: string;
  runId: string;
  /** The sweep's MLflow parent run, when tracking is on. */
  parentRunId?: string;
  cacheDir?: string;
  quiet: boolean;
  /** Go on with this run directory of the trial (interrupted earlier) from its latest checkpoint. */
  resumeRunDir?: string;
}

/** Stop after the current step, with a checkpoint (what Ctrl-C does to a single run). */
export interface StopTrial {
  type: 'stop';
}

export type ToWorker = StartTrial | StopTrial;

export interface TrialDone {
  type: 'done';
  status: RunSummary['status'];
  runDir: string;
  summary: RunSummary;
  metrics: FinalMetrics | null;
}

export interface TrialError {
  type: 'error';
  message: string;
  /** A mistake in the input (missing data folder, ...) rather than a bug: reported without the stack. */
  userError: boolean;
  stack?: string;
  /** Set when the run directory had been made before the error. */
  runDir?: string;
}

export type FromWorker = TrialDone | TrialError;
