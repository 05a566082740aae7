// Messages between the sweep process and a trial's worker process (Node IPC, JSON).
import type { Experiment } from '../config/experiment.generated.ts';
import type { RunSummary } from '../track/run-types.ts';
import type { FinalMetrics } from '../track/sweep-manifest.ts';

export interface StartTrial {
  type: 'start';
  trialName: string;
  config: Experiment;
  configFile: string;
  runId: string;
  /** The sweep's MLflow parent run, when tracking is on. */
  parentRunId?: string;
  quiet: boolean;
  /** Go on with this run directory of the trial (interrupted earlier) from its latest checkpoint. */
  resumeRunDir?: string;
}

/** Stop after the current step, with a checkpoint (what Ctrl-C does to a single run). */
export interface StopTrial {
  type: 'stop';
}

/** The sweep's early-stopping decision on the worker's evaluation at `epoch`: prune stops the trial there. */
export interface PruneReply {
  type: 'prune';
  epoch: number;
  prune: boolean;
}

export type ToWorker = StartTrial | StopTrial | PruneReply;

export interface TrialDone {
  type: 'done';
  status: RunSummary['status'];
  runDir: string;
  summary: RunSummary;
  metrics: FinalMetrics | null;
  /** Stopped at an evaluation by the sweep's early stopping (status is then stopped). */
  pruned?: boolean;
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

/** train.eval's values at an epoch end, sent while the trial runs; the sweep answers with a PruneReply. */
export interface TrialEvaluated {
  type: 'evaluated';
  epoch: number;
  values: Record<string, number>;
}

/** The worker's final report. */
export type FromWorker = TrialDone | TrialError;
export type WorkerMessage = FromWorker | TrialEvaluated;
