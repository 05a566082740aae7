// Model configs for the model tests: the lesson's DCGAN (every schema default) with overrides.
import type { Adam, Discriminator, Generator, Model } from '../../src/config/experiment.generated.ts';
import type { ImageChannels } from '../../src/model/build.ts';
import { discriminatorChannels, generatorChannels, startSize } from '../../src/plan/geometry.ts';

export interface ModelOverrides {
  latentDim?: number;
  imageSize?: number;
  generator?: Partial<Generator>;
  discriminator?: Partial<Discriminator>;
  init?: Model['init'];
}

export function lessonModel(overrides: ModelOverrides = {}): Model {
  return {
    latentDim: overrides.latentDim ?? 100,
    imageSize: overrides.imageSize ?? 64,
    generator: {
      blocks: 4,
      baseChannels: 64,
      kernelSize: 4,
      upsample: 'transposed',
      activation: { kind: 'relu' },
      batchNorm: { momentum: 0.9, epsilon: 0.8 },
      output: 'tanh',
      ...overrides.generator,
    },
    discriminator: {
      blocks: 4,
      baseChannels: 64,
      kernelSize: 4,
      activation: { kind: 'leakyRelu', alpha: 0.2 },
      batchNorm: { momentum: 0.9, epsilon: 0.8, firstBlock: true },
      spectralNorm: false,
      ...overrides.discriminator,
    },
    init: overrides.init ?? { kind: 'normal', mean: 0, std: 0.02 },
  };
}

/** 28x28 from 7x7 with two blocks each way (MNIST-sized). */
export function mnistModel(overrides: ModelOverrides = {}): Model {
  return lessonModel({
    imageSize: 28,
    ...overrides,
    generator: { blocks: 2, ...overrides.generator },
    discriminator: { blocks: 2, ...overrides.discriminator },
  });
}

/** A 16x16 DCGAN with every layer kind of the lesson's: k4 s1 'valid' from 1x1, k4 s2 'same' both ways, batch norm. */
export function tinyModel(): Model {
  return lessonModel({ latentDim: 8, imageSize: 16, generator: { blocks: 2, baseChannels: 8 }, discriminator: { blocks: 2, baseChannels: 8 } });
}

/** The lesson's Adam, with TF.js's default epsilon. */
export const LESSON_ADAM: Adam = { kind: 'adam', learningRate: 0.005, beta1: 0.5, beta2: 0.999, epsilon: 1e-7 };

/** The `meta` from which test/parity/lesson_dcgan.py's build() makes the lesson's nets shaped as `model`. */
export function lessonNetsMeta(model: Model, imageChannels: ImageChannels) {
  const g = model.generator;
  const d = model.discriminator;
  // The lesson's nets share one batch-norm setting, in every block of both.
  if (g.batchNorm === false || d.batchNorm === false || !d.batchNorm.firstBlock) throw new Error('the lesson batch-normalizes every block');
  return {
    generator: { latentDim: model.latentDim, channels: generatorChannels(g), imageChannels, firstKernel: startSize(model.imageSize, g.blocks) },
    discriminator: { channels: discriminatorChannels(d), imageChannels, finalKernel: startSize(model.imageSize, d.blocks) },
    torchMomentum: 1 - g.batchNorm.momentum,
    epsilon: g.batchNorm.epsilon,
  };
}
