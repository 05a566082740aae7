// The trackers a run gets from its config: MLflow when tracking.mlflow.uri or MLFLOW_TRACKING_URI is set,
// checked before training starts. A server that does not answer does not stop the run (unless
// tracking.mlflow.required): it trains, logs locally, and the tracker sends everything once the server answers.
import type { Experiment } from '../config/experiment.generated.ts';
import { connectAtStart, mlflowExperimentName, mlflowTarget, type MlflowTarget } from './mlflow-connect.ts';
import { MlflowTracker, type MlflowTrackerOptions } from './mlflow-tracker.ts';
import type { Tracker } from './tracker.ts';

export interface CreateTrackersOptions {
  env?: NodeJS.ProcessEnv;
  /** Problems that do not stop training (the MLflow server going away mid-run). */
  warn: (message: string) => void;
  log?: (line: string) => void;
  /** Reachability check at start (default 5 s). */
  checkTimeoutMs?: number;
  /** How the tracker probes a server that went away, and waits for it at the end (tests shorten these). */
  probing?: Pick<MlflowTrackerOptions, 'probeMinMs' | 'probeMaxMs' | 'finalWaitMs'>;
}

export interface TrackerSetup {
  trackers: Tracker[];
  mlflow?: MlflowTarget & { experiment: string; tracker: MlflowTracker };
}

/**
 * Throws a UserError (exit code 2) when the MLflow URI is not one, the server refuses us (credentials, not an MLflow
 * server), or it does not answer and tracking.mlflow.required is set.
 */
export async function createTrackers(config: Experiment, options: CreateTrackersOptions): Promise<TrackerSetup> {
  const target = mlflowTarget(config, options.env);
  if (!target) return { trackers: [] };
  const { client, unreachable } = await connectAtStart(config, target, options.env ?? process.env, options.checkTimeoutMs);
  const experiment = mlflowExperimentName(config);
  const tracker = new MlflowTracker({ client, experimentName: experiment, warn: options.warn, log: options.log, unreachable, ...options.probing });
  return { trackers: [tracker], mlflow: { ...target, uri: client.trackingUri, experiment, tracker } };
}
