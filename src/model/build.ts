// The lesson's DCGAN (d2l "Deep Convolutional GAN") as TF.js LayersModels, generalised by the config.
//
// Layout is NHWC throughout. With kernel 4, stride 2, 'same' padding TF pads 1 before and 1 after
// for every even input side, which is exactly PyTorch's padding=1 for both Conv2d and
// ConvTranspose2d; every stride-2 layer here sees an even side because
// imageSize = startSize * 2^blocks (test/model-parity.test.ts checks 64x64 and 28x28 against PyTorch).
// Other kernel sizes keep TF's 'same' semantics (output side exactly doubled / halved), which PyTorch
// can only express with asymmetric padding or output_padding.
import * as tf from '@tensorflow/tfjs';
import type { Activation, Model } from '../config/experiment.generated.ts';
import { deriveSeed } from '../random/rng.ts';
import { requireGeometry } from './geometry.ts';
import { FusedBatchNorm, ScaledElu } from './layers.ts';
import { Conv2D, Conv2DTranspose } from './conv.ts';
import { SpectralNormConv2D } from './spectral-norm.ts';

export type ImageChannels = 1 | 3;

type ConvArgs = Parameters<typeof tf.layers.conv2d>[0] & { name: string };

interface BatchNormSettings {
  momentum: number;
  epsilon: number;
}

/**
 * Generator: input z of shape [latentDim] (a batch is [batch, latentDim]), reshaped to 1x1xlatentDim;
 * block 1 is a transposed conv with kernel startSize, stride 1, 'valid' (1x1 -> startSize, the lesson's
 * k4 s1 p0 when startSize is 4); blocks 2..n double the side (`doubling`), then one more doubling to
 * imageChannels and the output activation.
 * Output: [batch, imageSize, imageSize, imageChannels].
 */
export function buildGenerator(model: Model, imageChannels: ImageChannels, seed: number): tf.LayersModel {
  const g = model.generator;
  const { startSize: start, channels } = requireGeometry(model, 'generator');
  const bn = g.batchNorm === false ? null : g.batchNorm;
  const init = initializers(model, seed, 'generator');

  const input = tf.input({ shape: [model.latentDim], name: 'g_input' });
  let x = tf.layers.reshape({ targetShape: [1, 1, model.latentDim], name: 'g_reshape' }).apply(input) as tf.SymbolicTensor;
  channels.forEach((filters, i) => {
    const name = `g_block${i + 1}`;
    x =
      i === 0
        ? (new Conv2DTranspose({ filters, kernelSize: start, strides: 1, padding: 'valid', ...convWeights(init, `${name}_convT`, bn === null) }).apply(
            x,
          ) as tf.SymbolicTensor)
        : doubling(g, init, name, filters, bn === null, x);
    if (bn) x = batchNorm(init, `${name}_bn`, bn).apply(x) as tf.SymbolicTensor;
    x = activation(g.activation, `${name}_act`).apply(x) as tf.SymbolicTensor;
  });
  // The lesson's output layer has no bias; a bias is added only when the network has no batch norm at all.
  x = doubling(g, init, 'g_out', imageChannels, bn === null, x);
  if (g.output !== 'linear') {
    x = tf.layers.activation({ activation: g.output, name: 'g_out_act' }).apply(x) as tf.SymbolicTensor;
  }
  return tf.model({ inputs: input, outputs: x, name: 'generator' });
}

/**
 * The generator's side doubling (schema: model.generator.upsample): a transposed conv with kernelSize, stride 2,
 * 'same' (k4 s2 p1, named <name>_convT), or nearest-neighbour 2x upsampling (<name>_up) then a 3x3 conv, stride 1,
 * 'same' (padding 1, <name>_conv).
 */
function doubling(g: Model['generator'], init: Init, name: string, filters: number, useBias: boolean, x: tf.SymbolicTensor): tf.SymbolicTensor {
  if (g.upsample === 'transposed') {
    return new Conv2DTranspose({ filters, kernelSize: g.kernelSize, strides: 2, padding: 'same', ...convWeights(init, `${name}_convT`, useBias) }).apply(
      x,
    ) as tf.SymbolicTensor;
  }
  const up = tf.layers.upSampling2d({ size: [2, 2], interpolation: 'nearest', name: `${name}_up` }).apply(x) as tf.SymbolicTensor;
  return tf.layers
    .conv2d({ filters, kernelSize: 3, strides: 1, padding: 'same', ...convWeights(init, `${name}_conv`, useBias) })
    .apply(up) as tf.SymbolicTensor;
}

/**
 * Discriminator: input [imageSize, imageSize, imageChannels]; `blocks` convs with kernelSize, stride 2,
 * 'same' (k4 s2 p1), each optionally batch-normalized, down to startSize; then a conv with kernel
 * startSize, 'valid', to one filter, flattened to [batch, 1].
 * The output is a LOGIT: the lesson's final Sigmoid is left to the loss, which applies it stably
 * (sigmoid cross-entropy from logits), so D(x) = sigmoid(output).
 * With spectralNorm every conv, the final one included (as the SN-GAN paper's D), is spectrally normalised;
 * layer names and kernel/bias values are those of the plain model, plus each conv's u and v.
 */
export function buildDiscriminator(model: Model, imageChannels: ImageChannels, seed: number): tf.LayersModel {
  const d = model.discriminator;
  const { startSize: start, channels } = requireGeometry(model, 'discriminator');
  const bn = d.batchNorm === false ? null : d.batchNorm;
  const init = initializers(model, seed, 'discriminator');
  // u gets a seed of its own: the kernel's seed would make u's draw repeat the kernel's first draws.
  const conv = (args: ConvArgs) => (d.spectralNorm ? new SpectralNormConv2D({ ...args, seed: init.seedFor(`${args.name}/u`) }) : new Conv2D(args));

  const input = tf.input({ shape: [model.imageSize, model.imageSize, imageChannels], name: 'd_input' });
  let x: tf.SymbolicTensor = input;
  channels.forEach((filters, i) => {
    const name = `d_block${i + 1}`;
    const normalized = bn !== null && (i > 0 || bn.firstBlock);
    x = conv({
      filters,
      kernelSize: d.kernelSize,
      strides: 2,
      padding: 'same',
      ...convWeights(init, `${name}_conv`, !normalized),
    }).apply(x) as tf.SymbolicTensor;
    if (normalized) x = batchNorm(init, `${name}_bn`, bn).apply(x) as tf.SymbolicTensor;
    x = activation(d.activation, `${name}_act`).apply(x) as tf.SymbolicTensor;
  });
  x = conv({ filters: 1, kernelSize: start, strides: 1, padding: 'valid', ...convWeights(init, 'd_out_conv', bn === null) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.flatten({ name: 'd_logit' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x, name: 'discriminator' });
}

interface Init {
  mean: number;
  std: number;
  /** A seed for the named layer, independent of every other layer's. */
  seedFor(layer: string): number;
}

function initializers(model: Model, seed: number, net: 'generator' | 'discriminator'): Init {
  return {
    mean: model.init.mean,
    std: model.init.std,
    // tfjs-core draws from Math.random() when the seed is falsy, so 0 must never reach it.
    seedFor: (layer) => deriveSeed(seed, `${net}/${layer}`) || 1,
  };
}

/** Kernel ~ N(mean, std) seeded per layer; a zero-initialised bias only where no batch norm follows (as the lesson). */
function convWeights(init: Init, name: string, useBias: boolean) {
  return {
    name,
    useBias,
    kernelInitializer: tf.initializers.randomNormal({ mean: init.mean, stddev: init.std, seed: init.seedFor(name) }),
    biasInitializer: tf.initializers.zeros(),
  };
}

/** momentum is Keras's (moving = momentum * moving + (1 - momentum) * batch): 0.9 is PyTorch's 0.1. */
function batchNorm(init: Init, name: string, settings: BatchNormSettings) {
  return new FusedBatchNorm({
    name,
    axis: -1,
    momentum: settings.momentum,
    epsilon: settings.epsilon,
    gammaInitializer: tf.initializers.randomNormal({ mean: 1, stddev: init.std, seed: init.seedFor(name) }),
    betaInitializer: tf.initializers.zeros(),
    movingMeanInitializer: tf.initializers.zeros(),
    movingVarianceInitializer: tf.initializers.ones(),
  });
}

function activation(a: Activation, name: string): tf.layers.Layer {
  switch (a.kind) {
    case 'relu':
      return tf.layers.reLU({ name });
    case 'leakyRelu':
      return tf.layers.leakyReLU({ alpha: a.alpha, name });
    case 'elu':
      return a.alpha === 1 ? tf.layers.elu({ name }) : new ScaledElu({ alpha: a.alpha, name });
    case 'selu':
    case 'swish':
    case 'tanh':
      return tf.layers.activation({ activation: a.kind, name });
  }
}
