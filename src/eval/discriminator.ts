// Dead units of the discriminator: the lesson's argument for LeakyReLU is that a ReLU unit whose input is never
// positive passes no gradient back to the generator. Measured here, not assumed.
//
// Definition. A unit is one channel of one of D's conv blocks, after its activation (layers d_block<k>_act, so
// after batch norm where the block has it). On a set of images, a unit is dead when its activation is never > 0
// at any spatial position of any image of the set. For every activation the builder offers (ReLU, LeakyReLU, ELU,
// SELU, swish, tanh) the output is > 0 exactly where the input is, so "never > 0" means "never in the positive
// regime": for ReLU no gradient at all, for LeakyReLU only alpha's. The finer count is per position and channel:
// a (row, column, channel) cell of a block's output that is never > 0 on the set.
//
// D runs as in training: in training mode, on batches of the training batch size (batch norm normalises each
// batch by its own statistics, as the training step does), real and generated images in batches of their own.
// Training mode moves batch norm's moving statistics and spectral norm's power iteration: every non-trainable
// weight is restored afterwards, so a measurement leaves the run exactly as it was. Two differences from a
// training step remain: D sees the images without train.augment's DiffAugment, and the generated images come
// from the evaluated generator (the weight average, where train.ema keeps one).
import * as tf from '@tensorflow/tfjs';
import type { ImageSet } from './images.ts';

/** D's activations: the layers named d_block<k>_act by src/model/build.ts. */
const BLOCK_ACTIVATION = /^d_block(\d+)_act$/;

export interface DeadUnits {
  /** Per block (block 1 first): the share of its channels never > 0. */
  blocks: number[];
  /** Over every block's channels together. */
  all: number;
  /** Over every block's (row, column, channel) cells together. */
  positions: number;
  /** The mean of sigmoid(D(x)) over the images: D's probability that they are real. */
  meanProbability: number;
}

export interface DeadUnitOptions {
  /** Images per forward pass (the training batch size). */
  batchSize: number;
  /** Per channel: model input = (pixel in [0, 1] - mean) / std, the config's normalize transform. */
  scale: { mean: number[]; std: number[] };
}

/** Dead units of `discriminator` on `images` (see the file's comment for the definition). */
export async function deadUnits(discriminator: tf.LayersModel, images: ImageSet, options: DeadUnitOptions): Promise<DeadUnits> {
  const layers = discriminator.layers
    .filter((layer) => BLOCK_ACTIVATION.test(layer.name))
    .sort((a, b) => Number(BLOCK_ACTIVATION.exec(a.name)![1]) - Number(BLOCK_ACTIVATION.exec(b.name)![1]));
  if (layers.length === 0) throw new Error(`the discriminator has no d_block<k>_act layers (${discriminator.layers.map((l) => l.name).join(', ')})`);
  const probe = tf.model({
    inputs: discriminator.inputs,
    outputs: [...layers.map((layer) => layer.output as tf.SymbolicTensor), discriminator.outputs[0]!],
  });
  const shapes = layers.map((layer) => (layer.outputShape as number[]).slice(1) as [number, number, number]);
  // Per block, the largest activation of each (row, column, channel) cell seen so far.
  const maxima = shapes.map(([h, w, c]) => new Float32Array(h * w * c).fill(-Infinity));
  const size = images.height * images.width * images.channels;
  const saved = discriminator.nonTrainableWeights.map((weight) => weight.read().clone());
  let probabilitySum = 0;
  try {
    const mean = tf.tensor1d(options.scale.mean);
    const std = tf.tensor1d(options.scale.std);
    for (let start = 0; start < images.count; start += options.batchSize) {
      const count = Math.min(options.batchSize, images.count - start);
      const outputs = tf.tidy(() => {
        const pixels = tf.tensor4d(images.data.subarray(start * size, (start + count) * size), [count, images.height, images.width, images.channels]);
        const results = probe.apply(pixels.sub(mean).div(std), { training: true }) as tf.Tensor[];
        const logits = results.pop()!;
        return [...results.map((activation) => activation.max(0)), tf.sigmoid(logits).sum()];
      });
      const values = await Promise.all(outputs.map((t) => t.data()));
      tf.dispose(outputs);
      maxima.forEach((cells, k) => {
        const batchMax = values[k]!;
        for (let i = 0; i < cells.length; i++) if (batchMax[i]! > cells[i]!) cells[i] = batchMax[i]!;
      });
      probabilitySum += values[values.length - 1]![0]!;
    }
    tf.dispose([mean, std]);
  } finally {
    discriminator.nonTrainableWeights.forEach((weight, i) => weight.write(saved[i]!));
    tf.dispose(saved);
  }
  let deadChannels = 0;
  let channels = 0;
  let deadCells = 0;
  let cells = 0;
  const blocks = maxima.map((cellMax, k) => {
    const [h, w, c] = shapes[k]!;
    let dead = 0;
    for (let channel = 0; channel < c; channel++) {
      let alive = false;
      for (let p = 0; p < h * w && !alive; p++) alive = cellMax[p * c + channel]! > 0;
      if (!alive) dead++;
    }
    for (const value of cellMax) if (!(value > 0)) deadCells++;
    cells += cellMax.length;
    deadChannels += dead;
    channels += c;
    return dead / c;
  });
  return { blocks, all: deadChannels / channels, positions: deadCells / cells, meanProbability: probabilitySum / images.count };
}
