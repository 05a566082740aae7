// TF.js's ELU layer throws for any alpha other than 1 ("not supported ... yet"), so ELU with the
// config's alpha is this small layer. It is registered for (de)serialisation: loading a saved model
// that uses it needs this module imported first. alpha = 1 keeps the stock layer.
import * as tf from '@tensorflow/tfjs';
import { FUSED, fusedBatchNormTraining, hasFused, movingAverage } from '../backend/fused-kernels.ts';
import { inTwiceDifferentiablePass } from './second-order.ts';

type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

export class ScaledElu extends tf.layers.Layer {
  static className = 'DcganScaledElu';
  readonly alpha: number;

  constructor(args: LayerArgs & { alpha: number }) {
    super(args);
    this.alpha = args.alpha;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    // relu(x) + alpha * elu(min(x, 0)): built from differentiable ops only (tf.greater has no gradient).
    return tf.tidy(() => tf.add(tf.relu(x), tf.mul(tf.elu(tf.minimum(x, 0)), this.alpha)));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), alpha: this.alpha };
  }
}

tf.serialization.registerClass(ScaledElu);

type BatchNormArgs = Parameters<typeof tf.layers.batchNormalization>[0];
// tfjs-layers exports a factory, not the class: take the class from an instance to extend it.
const BatchNormalization = Object.getPrototypeOf(tf.layers.batchNormalization({})).constructor as new (args: BatchNormArgs) => tf.layers.Layer;

interface BatchNormState {
  gamma: tf.LayerVariable;
  beta: tf.LayerVariable;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
  momentum: number;
  epsilon: number;
}

/**
 * Batch normalization over the channel axis (NHWC) whose training-mode gradient is written out:
 * dx = gamma / sigma * (dy - mean(dy) - xhat * mean(dy * xhat)), dgamma = sum(dy * xhat), dbeta = sum(dy).
 * tfjs-core composes that gradient from the batchNorm op and tf.moments, about three times as many
 * full-size elementwise kernels, which made batch norm a third of a DCGAN step on the tensorflow backend.
 * Where the backend registers a fused kernel pair (src/backend/fused-kernels.ts: TensorFlow's own on the
 * tensorflow backend, WGSL channel sums on webgpu), the training pass runs that instead. Inside
 * `twiceDifferentiable` (gradient penalties, src/model/second-order.ts) it is composed from tfjs-core ops.
 * Inference, the weights, the moving averages (Keras convention, biased batch variance) and the saved
 * format are those of tf.layers.batchNormalization. It keeps that class name, so saved models load in
 * plain TF.js as standard BatchNormalization layers; registering it makes this process load them as this.
 */
export class FusedBatchNorm extends BatchNormalization {
  static className = 'BatchNormalization';

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    if (!kwargs.training) return super.call(inputs, kwargs) as tf.Tensor;
    const state = this as unknown as BatchNormState;
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.tidy(() => {
      const gamma = state.gamma.read();
      const beta = state.beta.read();
      // The fused kernel has no gradient of its own, and the written-out gradient reads its saved normalised input
      // and 1/sigma as constants, which would drop the second-order terms through the batch statistics. The
      // moving statistics are left alone: they follow the loss's passes only, as without a penalty.
      if (inTwiceDifferentiablePass()) return composedBatchNorm(x, gamma, beta, state.epsilon);
      const { output, mean, variance } = hasFused(FUSED.batchNormTraining)
        ? fusedBatchNormTraining(x, gamma, beta, state.epsilon)
        : writtenOutBatchNorm(x, gamma, beta, state.epsilon);
      for (const [variable, value] of [
        [state.movingMean, mean],
        [state.movingVariance, variance],
      ] as const) {
        variable.write(movingAverage(variable.read(), value, state.momentum));
      }
      return output;
    });
  }
}

/** Training-mode batch norm from TF.js ops, with the gradient above written out: for every other backend. */
function writtenOutBatchNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number) {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const count = x.size / x.shape[x.shape.length - 1];
  const { mean, variance } = tf.moments(x, axes);
  const normalize = tf.customGrad((input, scale, offset, save) => {
    const keep = save as tf.GradSaveFunc;
    const inverseStd = tf.rsqrt(tf.add(variance, epsilon));
    const normalized = tf.mul(tf.sub(input as tf.Tensor, mean), inverseStd);
    keep([normalized, inverseStd]);
    return {
      value: tf.add(tf.mul(normalized, scale as tf.Tensor), offset as tf.Tensor),
      gradFunc: (dy, saved) => {
        const [xhat, invStd] = saved;
        const dBeta = tf.sum(dy as tf.Tensor, axes);
        const dGamma = tf.sum(tf.mul(dy as tf.Tensor, xhat), axes);
        const centred = tf.sub(dy as tf.Tensor, tf.div(dBeta, count));
        const dx = tf.mul(tf.sub(centred, tf.mul(xhat, tf.div(dGamma, count))), tf.mul(scale as tf.Tensor, invStd));
        return [dx, dGamma, dBeta];
      },
    };
  });
  return { output: normalize(x, gamma, beta), mean, variance };
}

/** (x - mean) / sqrt(variance + epsilon) * gamma + beta over the batch, every step an op with registered gradients. */
function composedBatchNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor {
  const { mean, variance } = tf.moments(
    x,
    x.shape.slice(0, -1).map((_, i) => i),
  );
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, epsilon))), gamma), beta);
}

// The class is a subclass of the serializable BatchNormalization, whose static fromConfig it inherits.
tf.serialization.registerClass(FusedBatchNorm as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
