// The shapes of a run's record that several track/ modules and their callers share. Imports nothing from
// track/, so every module can use them without an import loop.
import type { Experiment } from '../config/experiment.generated.ts';

/** As written by the trainer; readers may also show 'crashed' (src/track/run-state.ts), which is derived and never written. */
export type RunStatus = 'running' | 'finished' | 'stopped' | 'failed';

/** One line of metrics.jsonl. */
export type MetricRecord =
  | { type: 'step'; step: number; epoch: number; lossD: number; lossG: number; dReal: number; dFake: number; imagesPerSec: number; time: number }
  | {
      type: 'epoch';
      step: number;
      epoch: number;
      lossD: number;
      lossG: number;
      dReal: number;
      dFake: number;
      imagesPerSec: number;
      epochSeconds: number;
      time: number;
      /** The epoch's sample grid against real images (src/train/health.ts), where one was drawn. */
      sampleSpread?: { pixels: number; colours: number };
    }
  /** Sample-quality metrics (src/eval), by name, at an epoch's end. */
  | { type: 'eval'; step: number; epoch: number; values: Record<string, number>; time: number };

/** The step and epoch lines: losses, D outputs and speed. */
export type LossRecord = Exclude<MetricRecord, { type: 'eval' }>;

/** summary.json. */
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

/** The process training a run (src/track/run-owner.ts tells whether it still lives). */
export interface RunOwner {
  pid: number;
  host: string;
  /** When the process started (ISO). */
  startedAt: string;
  /** Linux: the process's start in clock ticks after boot (/proc/<pid>/stat), which tells a reused pid from the owner. */
  procStart?: number;
}

/** What a tracker is told when a run starts. */
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
