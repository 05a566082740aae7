import * as tf from '@tensorflow/tfjs';
import type { Adam } from '../config/experiment.generated.ts';
import { BiasCorrectedAdam } from './adam.ts';
import { discriminatorLoss, generatorLoss, type LossKind } from './losses.ts';
import { r1Penalty, wganGradientPenalty } from './penalties.ts';

/** Scalars of one step, still on the device: reading them back is left to the caller, who batches reads. */
export interface StepMetrics {
  lossD: tf.Scalar;
  lossG: tf.Scalar;
  /** Mean sigmoid(D(x)) on the real batch: D's probability of "real" under the bce loss. */
  dReal: tf.Scalar;
  /** Mean sigmoid(D(G(z))) in the discriminator's update. */
  dFake: tf.Scalar;
}

/** How a step trains, beyond the networks and optimizers: train.loss and the options that stabilise it. */
export interface StepOptions {
  loss: LossKind;
  /** Differentiable augmentation of every batch D sees (train.augment), drawing new parameters per call. */
  augment?: (images: tf.Tensor4D) => tf.Tensor4D;
  /** gamma of R1 (train.r1); 0: none. */
  r1?: number;
  /** With loss wgan-gp: lambda (train.gradientPenalty), and per-image weights in [0, 1) for the interpolates, [batch, 1, 1, 1]. */
  gradientPenalty?: { weight: number; mix: (count: number) => tf.Tensor4D };
}

/** The lesson's step. */
export const LESSON_STEP: StepOptions = { loss: 'bce' };

export function makeAdam(settings: Adam): tf.AdamOptimizer {
  return new BiasCorrectedAdam(settings.learningRate, settings.beta1, settings.beta2, settings.epsilon);
}

const trainable = (model: tf.LayersModel) => model.trainableWeights.map((w) => w.read() as tf.Variable);

/** Both networks with their optimizers: what a step updates. */
export interface Gan {
  generator: tf.LayersModel;
  discriminator: tf.LayersModel;
  optimizers: { generator: tf.Optimizer; discriminator: tf.Optimizer };
}

/**
 * One step of the lesson's algorithm (its update_D, then update_G): the discriminator learns from a real and a
 * fake batch, then the generator learns from a fresh pass of the same noise through G and D, both networks in
 * training mode (batch statistics), each with its own Adam. With the lesson's bce loss, D's loss is
 * (BCE(D(x), 1) + BCE(D(G(z)), 0)) / 2 and G's BCE(D(G(z)), 1).
 */
export function trainStep(
  generator: tf.LayersModel,
  discriminator: tf.LayersModel,
  optimizers: Gan['optimizers'],
  real: tf.Tensor4D,
  noise: tf.Tensor2D,
  options: StepOptions = LESSON_STEP,
): StepMetrics {
  const gan = { generator, discriminator, optimizers };
  const { lossD, dReal, dFake } = discriminatorStep(gan, real, noise, options);
  return { lossD, dReal, dFake, lossG: generatorStep(gan, noise, options) };
}

/** The discriminator's update. A penalty's own pass through D leaves D's batch-norm moving statistics alone. */
export function discriminatorStep(gan: Gan, real: tf.Tensor4D, noise: tf.Tensor2D, options: StepOptions = LESSON_STEP): Omit<StepMetrics, 'lossG'> {
  const { generator, discriminator, optimizers } = gan;
  const seen = options.augment ?? ((images: tf.Tensor4D) => images);
  return tf.tidy(() => {
    let dReal!: tf.Scalar;
    let dFake!: tf.Scalar;
    // G's forward pass here has no gradient to D's update, like the lesson's optimizer of D alone.
    const fake = generator.apply(noise, { training: true }) as tf.Tensor4D;
    const realSeen = seen(real);
    const fakeSeen = seen(fake);
    const lossD = optimizers.discriminator.minimize(
      () => {
        const realLogits = discriminator.apply(realSeen, { training: true }) as tf.Tensor;
        const fakeLogits = discriminator.apply(fakeSeen, { training: true }) as tf.Tensor;
        dReal = tf.keep(tf.sigmoid(realLogits).mean());
        dFake = tf.keep(tf.sigmoid(fakeLogits).mean());
        let loss = discriminatorLoss(options.loss, realLogits, fakeLogits);
        // The penalties look at the images D is trained on: augmented, where train.augment is on (as StyleGAN2-ADA).
        if (options.r1) loss = loss.add(r1Penalty(discriminator, realSeen).mul(options.r1 / 2));
        const gp = options.gradientPenalty;
        if (gp) loss = loss.add(wganGradientPenalty(discriminator, realSeen, fakeSeen, gp.mix(real.shape[0])).mul(gp.weight));
        return loss;
      },
      true,
      trainable(discriminator),
    ) as tf.Scalar;
    return { lossD, dReal, dFake };
  });
}

/** The generator's update, through a fresh G(z) (the lesson's update_G does not reuse D's fake batch). */
export function generatorStep(gan: Gan, noise: tf.Tensor2D, options: StepOptions = LESSON_STEP): tf.Scalar {
  const { generator, discriminator, optimizers } = gan;
  const seen = options.augment ?? ((images: tf.Tensor4D) => images);
  return tf.tidy(
    () =>
      optimizers.generator.minimize(
        () =>
          generatorLoss(options.loss, discriminator.apply(seen(generator.apply(noise, { training: true }) as tf.Tensor4D), { training: true }) as tf.Tensor),
        true,
        trainable(generator),
      ) as tf.Scalar,
  );
}
