// Model configs for the model tests: the lesson's DCGAN (every schema default) with overrides.
import type { Adam, Discriminator, Generator, Model } from '../../src/config/experiment.generated.ts';

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
