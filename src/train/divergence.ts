// Divergence: non-finite losses or weights end the run before its NaN weights reach a checkpoint or a grid.
import * as tf from '@tensorflow/tfjs';
import type { Experiment } from '../config/experiment.generated.ts';

export const STEP_VALUES = ['lossD', 'lossG', 'dReal', 'dFake'] as const;
type StepValues = Record<(typeof STEP_VALUES)[number], ArrayLike<number>>;

/** The first row whose step values are not all finite, with what they were ("lossD is NaN"); undefined when all are. */
export function firstNonFinite(columns: StepValues): { row: number; what: string } | undefined {
  const rows = columns.lossD.length;
  for (let row = 0; row < rows; row++) {
    const bad = STEP_VALUES.filter((key) => !Number.isFinite(columns[key][row]));
    if (bad.length > 0) return { row, what: bad.map((key) => `${key} is ${columns[key][row]}`).join(', ') };
  }
  return undefined;
}

/**
 * One number per weight (batch-norm statistics included) that is finite exactly when all of the weight's
 * values are: x * 0 is 0 for every finite x and NaN for NaN and +-Infinity, and a sum keeps the NaN.
 */
export function weightFiniteness(model: tf.LayersModel): tf.Tensor1D {
  return tf.tidy(() => tf.stack(model.weights.map((weight) => tf.sum(tf.mul(weight.read(), 0)))) as tf.Tensor1D);
}

/** The names of the weights whose entries in `finiteness` (from weightFiniteness) are not finite. */
export function nonFiniteWeights(model: tf.LayersModel, finiteness: ArrayLike<number>): string[] {
  return model.weights.filter((_, i) => !Number.isFinite(finiteness[i])).map((weight) => weight.originalName);
}

/** What the user reads: where it diverged, what was not finite, what was kept, and what to change. */
export function divergenceMessage(config: Experiment, at: { step: number; epoch: number; what: string; lastCheckpoint?: string }): string {
  const { generator, discriminator } = config.train.optimizers;
  const kept = at.lastCheckpoint ? `the last good checkpoint, ${at.lastCheckpoint}, is kept` : 'no checkpoint had been written yet';
  return (
    `training diverged at step ${at.step} (epoch ${at.epoch}): ${at.what}; the run stopped without saving these weights (${kept}). ` +
    `Lower the learning rates (train.optimizers.generator.learningRate ${generator.learningRate}, train.optimizers.discriminator.learningRate ${discriminator.learningRate}), ` +
    'or train with a stabler recipe (configs/pokemon-stable.yaml)'
  );
}
