// TensorFlow's own fused training kernels under TF.js's tensorflow backend (tfjs-node). tfjs-core builds batch
// norm's training pass and the ReLU / LeakyReLU gradients from many small ops, each a full pass over memory
// (ReLU's gradient alone is seven kernels through tfjs-node's Step); TensorFlow has one kernel for each:
// FusedBatchNormV3 / FusedBatchNormGradV3, ReluGrad and LeakyReluGrad. They are registered as TF.js kernels
// for the tensorflow backend only: on any other backend the stock composition runs, so results agree.
import * as tf from '@tensorflow/tfjs';
import { FUSED, registerFusedGradients } from './fused-kernels.ts';

/** The parts of tfjs-node's backend used to run a TensorFlow op by name (its own kernels do the same). */
export interface TensorflowBackend {
  binding: {
    TF_FLOAT: number;
    TF_INT32: number;
    TF_ATTR_FLOAT: number;
    TF_ATTR_STRING: number;
    TF_ATTR_BOOL: number;
    TF_ATTR_TYPE: number;
    TF_ATTR_SHAPE: number;
  };
  executeSingleOutput(op: string, attrs: OpAttr[], inputs: tf.TensorInfo[]): tf.TensorInfo;
  executeMultipleOutputs(op: string, attrs: OpAttr[], inputs: tf.TensorInfo[], outputs: number): tf.TensorInfo[];
}

export interface OpAttr {
  name: string;
  type: number;
  value: unknown;
}

function floatAttrs(backend: TensorflowBackend, ...names: string[]): OpAttr[] {
  return names.map((name) => ({ name, type: backend.binding.TF_ATTR_TYPE, value: backend.binding.TF_FLOAT }));
}

/** NHWC training-mode batch norm attributes; exponential_avg_factor keeps its default 1: no running stats in the op. */
function batchNormAttrs(backend: TensorflowBackend, epsilon: number): OpAttr[] {
  const { binding } = backend;
  return [
    ...floatAttrs(backend, 'T', 'U'),
    { name: 'epsilon', type: binding.TF_ATTR_FLOAT, value: epsilon },
    { name: 'data_format', type: binding.TF_ATTR_STRING, value: 'NHWC' },
    { name: 'is_training', type: binding.TF_ATTR_BOOL, value: true },
  ];
}

/** A kernel's arguments, with the input names it is registered with. */
interface KernelArgs<Input extends string> {
  inputs: Record<Input, tf.TensorInfo>;
  attrs: tf.NamedAttrMap;
  backend: unknown;
}

/**
 * Outputs: y, the batch mean, the biased batch variance (the one that normalised the batch, which TF.js's
 * moving average uses), and TensorFlow's three reserve spaces that its gradient kernel reads back.
 */
function batchNormTraining({ inputs, attrs, backend }: KernelArgs<'x' | 'scale' | 'offset'>): tf.TensorInfo[] {
  const native = backend as TensorflowBackend;
  const { x, scale, offset } = inputs;
  // In training the op ignores the running statistics: empty tensors say so.
  const none = tf.tensor1d([]);
  const [y, mean, unbiased, ...reserves] = native.executeMultipleOutputs(
    'FusedBatchNormV3',
    batchNormAttrs(native, attrs.epsilon as number),
    [x, scale, offset, none, none],
    6,
  ) as tf.Tensor[];
  // TensorFlow returns the Bessel-corrected variance (and a reserve space whose meaning differs on GPUs).
  const count = tf.util.sizeFromShape(x.shape) / x.shape[x.shape.length - 1];
  const variance = tf.mul(unbiased, count > 1 ? (count - 1) / count : 1);
  tf.dispose([none, unbiased]);
  return [y, mean, variance, ...reserves];
}

function batchNormTrainingGrad({ inputs, attrs, backend }: KernelArgs<'dy' | 'x' | 'scale' | 'reserve1' | 'reserve2' | 'reserve3'>): tf.TensorInfo[] {
  const native = backend as TensorflowBackend;
  const { dy, x, scale, reserve1, reserve2, reserve3 } = inputs;
  // Through the batch statistics too: TensorFlow's kernel takes them into account, given is_training.
  const [dx, dScale, dOffset, ...unused] = native.executeMultipleOutputs(
    'FusedBatchNormGradV3',
    batchNormAttrs(native, attrs.epsilon as number),
    [dy, x, scale, reserve1, reserve2, reserve3],
    5,
  ) as tf.Tensor[];
  tf.dispose(unused);
  return [dx, dScale, dOffset];
}

/**
 * Binary cross-entropy of sigmoid(z) against a constant label, averaged: softplus(z) for label 0 and softplus(-z) for
 * label 1 (both equal max(z, 0) - z * label + log(1 + e^-|z|), tfjs's stable form), then the mean.
 */
function sigmoidCrossEntropyMean({ inputs: { logits }, attrs, backend }: KernelArgs<'logits'>): tf.TensorInfo {
  const native = backend as TensorflowBackend;
  return tf.tidy(() => {
    const z = attrs.label === 1 ? native.executeSingleOutput('Neg', floatAttrs(native, 'T'), [logits]) : logits;
    const losses = native.executeSingleOutput('Softplus', floatAttrs(native, 'T'), [z]);
    const axes = tf.tensor1d(
      logits.shape.map((_, i) => i),
      'int32',
    );
    const keepDims = { name: 'keep_dims', type: native.binding.TF_ATTR_BOOL, value: false };
    const indexType = { name: 'Tidx', type: native.binding.TF_ATTR_TYPE, value: native.binding.TF_INT32 };
    return native.executeSingleOutput('Mean', [...floatAttrs(native, 'T'), indexType, keepDims], [losses, axes]) as tf.Tensor;
  });
}

/** dy * (sigmoid(z) - label) / size, with sigmoid(z) - 1 as -sigmoid(-z). */
function sigmoidCrossEntropyMeanGrad({ inputs: { dy, logits }, attrs, backend }: KernelArgs<'dy' | 'logits'>): tf.TensorInfo {
  const native = backend as TensorflowBackend;
  const T = floatAttrs(native, 'T');
  return tf.tidy(() => {
    const positive = attrs.label === 1;
    const probabilities = native.executeSingleOutput('Sigmoid', T, [positive ? native.executeSingleOutput('Neg', T, [logits]) : logits]);
    const scale = native.executeSingleOutput('Mul', T, [dy, tf.scalar((positive ? -1 : 1) / tf.util.sizeFromShape(logits.shape))]);
    return native.executeSingleOutput('Mul', T, [probabilities, scale]) as tf.Tensor;
  });
}

let registered = false;

/** Registers the kernels for the tensorflow backend and the gradients that use them; idempotent. */
export function registerTensorflowKernels(): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({ kernelName: FUSED.batchNormTraining, backendName: 'tensorflow', kernelFunc: batchNormTraining as tf.KernelFunc });
  tf.registerKernel({ kernelName: FUSED.batchNormTrainingGrad, backendName: 'tensorflow', kernelFunc: batchNormTrainingGrad as tf.KernelFunc });
  tf.registerKernel({ kernelName: FUSED.sigmoidCrossEntropyMean, backendName: 'tensorflow', kernelFunc: sigmoidCrossEntropyMean as tf.KernelFunc });
  tf.registerKernel({ kernelName: FUSED.sigmoidCrossEntropyMeanGrad, backendName: 'tensorflow', kernelFunc: sigmoidCrossEntropyMeanGrad as tf.KernelFunc });
  tf.registerKernel({
    kernelName: FUSED.reluGrad,
    backendName: 'tensorflow',
    kernelFunc: (({ inputs, backend }: KernelArgs<'dy' | 'x'>) => {
      const native = backend as TensorflowBackend;
      return native.executeSingleOutput('ReluGrad', floatAttrs(native, 'T'), [inputs.dy, inputs.x]);
    }) as tf.KernelFunc,
  });
  tf.registerKernel({
    kernelName: FUSED.leakyReluGrad,
    backendName: 'tensorflow',
    kernelFunc: (({ inputs, attrs, backend }: KernelArgs<'dy' | 'x'>) => {
      const native = backend as TensorflowBackend;
      const alpha = { name: 'alpha', type: native.binding.TF_ATTR_FLOAT, value: attrs.alpha };
      return native.executeSingleOutput('LeakyReluGrad', [...floatAttrs(native, 'T'), alpha], [inputs.dy, inputs.x]);
    }) as tf.KernelFunc,
  });
  registerFusedGradients();
}
