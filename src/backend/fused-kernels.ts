// Names of the fused kernels that a backend may register (src/backend/tensorflow-kernels.ts runs TensorFlow's
// own; src/backend/webgpu-kernels.ts compiles WGSL), and the gradients that use them. Where the active
// backend has no such kernel, tfjs-core's composition of small ops runs instead, with the same results.
import * as tf from '@tensorflow/tfjs';

export const FUSED = {
  /** x, scale, offset -> y, batch mean, biased batch variance, three saved tensors for the gradient. */
  batchNormTraining: 'dcgan/FusedBatchNormTraining',
  /** dy, x, scale, the three saved tensors -> dx, dscale, doffset. */
  batchNormTrainingGrad: 'dcgan/FusedBatchNormTrainingGrad',
  /** dy, x -> dy where x > 0, else 0. */
  reluGrad: 'dcgan/ReluGrad',
  /** dy, x -> dy where x > 0, else alpha * dy. */
  leakyReluGrad: 'dcgan/LeakyReluGrad',
  /** moment, gradient -> beta * moment + (1 - beta) * gradient (squared when attrs.squared): Adam's averages. */
  adamMoment: 'dcgan/AdamMoment',
  /** value, m, v -> value - learningRate * (m * c1) / (sqrt(v * c2) + epsilon), c = bias corrections. */
  adamUpdate: 'dcgan/AdamUpdate',
  /** moving, batch -> moving - (moving - batch) * (1 - momentum): batch norm's moving statistics. */
  movingAverage: 'dcgan/MovingAverage',
  /** logits -> the mean over all elements of the binary cross-entropy of sigmoid(logits) against attrs.label. */
  sigmoidCrossEntropyMean: 'dcgan/SigmoidCrossEntropyMean',
  /** dy (the scalar mean's gradient), logits -> dy * (sigmoid(logits) - label) / size. */
  sigmoidCrossEntropyMeanGrad: 'dcgan/SigmoidCrossEntropyMeanGrad',
} as const;

/** Whether the active backend registers `kernel`. */
export function hasFused(kernel: string): boolean {
  return tf.getKernel(kernel, tf.getBackend()) !== undefined;
}

/** Training-mode batch norm over NHWC's channel axis as one fused kernel; see `hasFused(FUSED.batchNormTraining)`. */
export function fusedBatchNormTraining(x: tf.Tensor, scale: tf.Tensor, offset: tf.Tensor, epsilon: number) {
  const [output, mean, variance] = tf.engine().runKernel(FUSED.batchNormTraining, { x, scale, offset }, { epsilon }) as tf.Tensor[];
  return { output, mean, variance };
}

/** Batch norm's moving statistic after one batch (Keras' convention: momentum is the weight of the old value). */
export function movingAverage(moving: tf.Tensor, batch: tf.Tensor, momentum: number): tf.Tensor {
  if (hasFused(FUSED.movingAverage)) return tf.engine().runKernel(FUSED.movingAverage, { moving, batch }, { momentum }) as tf.Tensor;
  return tf.sub(moving, tf.mul(tf.sub(moving, batch), 1 - momentum));
}

/** Binary cross-entropy of sigmoid(logits) against a constant label, averaged, computed stably from the logits. */
export function sigmoidCrossEntropyMean(logits: tf.Tensor, label: 0 | 1): tf.Scalar {
  if (hasFused(FUSED.sigmoidCrossEntropyMean)) return tf.engine().runKernel(FUSED.sigmoidCrossEntropyMean, { logits }, { label }) as tf.Scalar;
  const labels = label === 1 ? tf.onesLike(logits) : tf.zerosLike(logits);
  return tf.losses.sigmoidCrossEntropy(labels, logits) as tf.Scalar;
}

/** Replaces tfjs-core's gradient of `kernelName` by the fused kernel where the active backend has it. */
function preferFusedGradient(kernelName: string, fused: string, attrsOf: (attrs: tf.NamedAttrMap) => tf.NamedAttrMap) {
  const stock = tf.getGradient(kernelName);
  tf.registerGradient({
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      if (!hasFused(fused)) return stock.gradFunc(dy, saved, attrs);
      return { x: () => tf.engine().runKernel(fused, { dy: dy as tf.Tensor, x: saved[0]! }, attrsOf(attrs)) as tf.Tensor };
    },
  });
}

let registered = false;

/**
 * The gradients of the fused batch norm and loss, and ReLU's and LeakyReLU's gradients as one fused kernel where the
 * backend has it (tfjs-core's are 3 to 7 kernels). Idempotent; backends that register fused kernels call it.
 */
export function registerFusedGradients(): void {
  if (registered) return;
  registered = true;
  tf.registerGradient({
    kernelName: FUSED.batchNormTraining,
    inputsToSave: ['x', 'scale'],
    outputsToSave: [false, false, false, true, true, true],
    gradFunc: batchNormTrainingGradient,
  });
  tf.registerGradient({
    kernelName: FUSED.sigmoidCrossEntropyMean,
    inputsToSave: ['logits'],
    gradFunc: (dy, [logits], attrs) => ({
      logits: () => tf.engine().runKernel(FUSED.sigmoidCrossEntropyMeanGrad, { dy: dy as tf.Tensor, logits: logits! }, attrs) as tf.Tensor,
    }),
  });
  preferFusedGradient('Relu', FUSED.reluGrad, () => ({}));
  preferFusedGradient('LeakyRelu', FUSED.leakyReluGrad, (attrs) => ({ alpha: attrs.alpha }));
  for (const kernelName of [FUSED.reluGrad, FUSED.leakyReluGrad]) {
    tf.registerGradient({ kernelName, inputsToSave: ['x'], gradFunc: activationGradGradient(kernelName) });
  }
}

/**
 * The gradient of an activation's gradient dy * mask(x), for gradient penalties: linear in dy with the same mask,
 * and flat in x wherever it is differentiable.
 */
function activationGradGradient(kernelName: string): tf.GradFunc {
  return (ddx, [x], attrs) => ({
    dy: () => tf.engine().runKernel(kernelName, { dy: ddx as tf.Tensor, x: x! }, attrs) as tf.Tensor,
    x: () => tf.zerosLike(x!),
  });
}

function batchNormTrainingGradient(dys: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) {
  const [x, scale, reserve1, reserve2, reserve3] = saved;
  const dy = (dys as tf.Tensor[])[0];
  // One kernel gives all three gradients: run it once, here, rather than once per input.
  const [dx, dScale, dOffset] = tf.engine().runKernel(FUSED.batchNormTrainingGrad, { dy, x, scale, reserve1, reserve2, reserve3 }, attrs) as tf.Tensor[];
  return { x: () => dx, scale: () => dScale, offset: () => dOffset };
}
