// The trackers a run gets from its config: MLflow when tracking.mlflow.uri or MLFLOW_TRACKING_URI is set,
// checked reachable before training starts.
import type { Experiment } from '../config/experiment.generated.ts';
import { connectMlflow, LIVE_RETRIES, mlflowTarget, type MlflowTarget } from './mlflow-connect.ts';
import { MlflowTracker } from './mlflow-tracker.ts';
import { mlflowExperimentName } from './params.ts';
import type { Tracker } from './tracker.ts';

export interface CreateTrackersOptions {
  env?: NodeJS.ProcessEnv;
  /** Problems that do not stop training (the MLflow server going away mid-run). */
  warn: (message: string) => void;
  log?: (line: string) => void;
  /** Reachability check at start (default 5 s). */
  checkTimeoutMs?: number;
}

export interface TrackerSetup {
  trackers: Tracker[];
  mlflow?: MlflowTarget & { experiment: string; tracker: MlflowTracker };
}

/** Throws a UserError (exit code 2) when the MLflow server is configured but unusable. */
export async function createTrackers(config: Experiment, options: CreateTrackersOptions): Promise<TrackerSetup> {
  const target = mlflowTarget(config, options.env);
  if (!target) return { trackers: [] };
  const client = await connectMlflow(target, { env: options.env, retries: LIVE_RETRIES, checkTimeoutMs: options.checkTimeoutMs });
  const experiment = mlflowExperimentName(config);
  const tracker = new MlflowTracker({ client, experimentName: experiment, warn: options.warn, log: options.log });
  return { trackers: [tracker], mlflow: { ...target, uri: client.trackingUri, experiment, tracker } };
}
