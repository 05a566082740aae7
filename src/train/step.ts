import * as tf from '@tensorflow/tfjs';
import type { Adam } from '../config/experiment.generated.ts';
import { sigmoidCrossEntropyMean } from '../backend/fused-kernels.ts';
import { FusedAdam } from './adam.ts';

/** Scalars of one step, still on the device: reading them back is left to the caller, who batches reads. */
export interface StepMetrics {
  lossD: tf.Scalar;
  lossG: tf.Scalar;
  /** Mean D(x) on the real batch. */
  dReal: tf.Scalar;
  /** Mean D(G(z)) in the discriminator's update. */
  dFake: tf.Scalar;
}

export function makeAdam(settings: Adam): tf.AdamOptimizer {
  return new FusedAdam(settings.learningRate, settings.beta1, settings.beta2, settings.epsilon);
}

const trainable = (model: tf.LayersModel) => model.trainableWeights.map((w) => w.read() as tf.Variable);

/**
 * One step of the lesson's algorithm: the discriminator learns from real and fake images with loss
 * (BCE(D(x), 1) + BCE(D(G(z)), 0)) / 2, then the generator learns from BCE(D(G(z)), 1), both networks in
 * training mode (batch statistics), each with its own Adam.
 */
export function trainStep(
  generator: tf.LayersModel,
  discriminator: tf.LayersModel,
  optimizers: { generator: tf.Optimizer; discriminator: tf.Optimizer },
  real: tf.Tensor4D,
  noise: tf.Tensor2D,
): StepMetrics {
  return tf.tidy(() => {
    let dReal!: tf.Scalar;
    let dFake!: tf.Scalar;
    // G's forward pass here has no gradient to D's update, like the lesson's optimizer of D alone.
    const fake = generator.apply(noise, { training: true }) as tf.Tensor4D;
    const lossD = optimizers.discriminator.minimize(
      () => {
        const realLogits = discriminator.apply(real, { training: true }) as tf.Tensor;
        const fakeLogits = discriminator.apply(fake, { training: true }) as tf.Tensor;
        dReal = tf.keep(tf.sigmoid(realLogits).mean());
        dFake = tf.keep(tf.sigmoid(fakeLogits).mean());
        return sigmoidCrossEntropyMean(realLogits, 1).add(sigmoidCrossEntropyMean(fakeLogits, 0)).div(2) as tf.Scalar;
      },
      true,
      trainable(discriminator),
    ) as tf.Scalar;
    const lossG = optimizers.generator.minimize(
      () => sigmoidCrossEntropyMean(discriminator.apply(generator.apply(noise, { training: true }), { training: true }) as tf.Tensor, 1),
      true,
      trainable(generator),
    ) as tf.Scalar;
    return { lossD, lossG, dReal, dFake };
  });
}
