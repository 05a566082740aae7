// Gradient penalties on the discriminator: functions of D's gradient with respect to its input, whose gradient
// with respect to D's weights the optimizer then needs (src/model/second-order.ts: how tfjs-core gives it).
import * as tf from '@tensorflow/tfjs';
import { twiceDifferentiable } from '../model/second-order.ts';

/**
 * The gradient of the sum of D's logits (training mode) with respect to the images, each image's own row of the
 * Jacobian as in the papers' code; batch norm also carries the other images' terms through the batch statistics.
 */
function inputGradient(discriminator: tf.LayersModel, images: tf.Tensor4D): tf.Tensor4D {
  const logitSum = (x: tf.Tensor) => tf.sum(discriminator.apply(x, { training: true }) as tf.Tensor);
  return twiceDifferentiable(() => tf.grad(logitSum)(images) as tf.Tensor4D);
}

/** Squared L2 norm of each image's gradient, summed over pixels and channels: [batch]. */
const squaredNorms = (gradient: tf.Tensor4D): tf.Tensor1D => tf.sum(tf.square(gradient), [1, 2, 3]);

/**
 * R1 (Mescheder et al. 2018): mean over the real batch of ||grad_x D(x)||^2. The caller scales it by gamma / 2.
 * Differentiable with respect to D's weights, e.g. inside optimizer.minimize.
 */
export function r1Penalty(discriminator: tf.LayersModel, real: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => tf.mean(squaredNorms(inputGradient(discriminator, real))));
}

/**
 * WGAN-GP's penalty (Gulrajani et al. 2017): mean((||grad_x D(x_hat)||_2 - 1)^2) at x_hat = mix * real +
 * (1 - mix) * fake, `mix` per image in [0, 1) with shape [batch, 1, 1, 1]. The caller scales it by lambda.
 */
export function wganGradientPenalty(discriminator: tf.LayersModel, real: tf.Tensor4D, fake: tf.Tensor4D, mix: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const interpolates = tf.add(tf.mul(mix, real), tf.mul(tf.sub(1, mix), fake)) as tf.Tensor4D;
    // sqrt's gradient is infinite at 0 (an image whose input gradient vanishes, every ReLU off), which makes the
    // update NaN; with 1e-12 it is 0 there, as PyTorch's norm gives, and the norm moves by at most 1e-6.
    const norms = tf.sqrt(tf.add(squaredNorms(inputGradient(discriminator, interpolates)), 1e-12));
    return tf.mean(tf.square(tf.sub(norms, 1)));
  });
}
