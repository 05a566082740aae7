// One experiment's run as the command line and a sweep's trial start it: the trackers (MLflow when configured,
// checked before training starts) and train().
import type { Experiment } from '../config/experiment.generated.ts';
import { createTrackers } from '../track/create-trackers.ts';
import { train, type TrainOptions, type TrainResult } from './trainer.ts';

export async function runExperiment(config: Experiment, options: Omit<TrainOptions, 'trackers'>): Promise<TrainResult> {
  const { progress } = options;
  const warn = (line: string) => (progress.warn ? progress.warn(line) : progress.log(`warning: ${line}`));
  // With parentRunId (a sweep's trial) the MLflow run is the sweep parent's child (tag mlflow.parentRunId).
  const { trackers } = await createTrackers(config, { log: progress.log, warn });
  return train(config, { ...options, trackers });
}
