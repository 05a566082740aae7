// The run's sample grids: the same fixed noise every time, so grids compare across epochs, and the spread of
// what they draw against real images, which is how a collapsed generator shows (src/train/health.ts).
import * as tf from '@tensorflow/tfjs';
import type { Experiment } from '../config/experiment.generated.ts';
import { epochBatches } from '../data/dataset.ts';
import type { ImageDataset, Shape } from '../data/types.ts';
import { deriveSeed, Rng } from '../random/rng.ts';
import { imageGridPng, pixelScale, type PixelScale } from '../render/grid.ts';
import { sampleSpread, type SampleSpread } from './health.ts';

export class SampleGrids {
  private readonly noise: tf.Tensor2D;
  private readonly scale: PixelScale;
  private readonly reference: { pixels: Float32Array; count: number };

  constructor(
    private readonly config: Experiment,
    dataset: ImageDataset,
    private readonly shape: Shape,
  ) {
    const { count } = config.train.samples;
    const { latentDim } = config.model;
    this.noise = tf.tensor2d(new Rng(deriveSeed(config.seed, 'samples')).normals(count * latentDim), [count, latentDim]);
    this.scale = pixelScale(config, shape.channels);
    this.reference = realSample(dataset, config, count, this.scale);
  }

  /** The grid `generator` draws from the fixed noise: a PNG, and the spread of its images relative to real ones. */
  async draw(generator: tf.LayersModel): Promise<{ png: Buffer; spread: SampleSpread }> {
    const { count } = this.config.train.samples;
    const { height, width, channels } = this.shape;
    const images = tf.tidy(() => generator.apply(this.noise, { training: false }) as tf.Tensor4D);
    const values = (await images.data()) as Float32Array;
    images.dispose();
    const png = await imageGridPng(values, { count, height, width, channels }, this.scale, Math.min(7, count));
    const spread = sampleSpread(toPixels(values, this.scale), this.reference.pixels, this.reference.count, { height, width, channels });
    return { png, spread };
  }

  dispose(): void {
    this.noise.dispose();
  }
}

/** Normalized images back to pixel values in [0, 1] (interleaved channels, as the grid draws them). */
function toPixels(values: Float32Array, scale: PixelScale): Float32Array {
  const channels = scale.mean.length;
  return values.map((v, i) => Math.min(1, Math.max(0, v * scale.std[i % channels]! + scale.mean[i % channels]!)));
}

/** The first `count` images of a batch drawn as training draws them (its own seeded epoch), in [0, 1]: the spread collapse is judged against. */
function realSample(dataset: ImageDataset, config: Experiment, count: number, scale: PixelScale): { pixels: Float32Array; count: number } {
  const first = epochBatches(
    dataset,
    { ...config.data, batchSize: Math.max(count, config.data.batchSize) },
    { seed: deriveSeed(config.seed, 'reference'), epoch: 0 },
  ).next().value!;
  const n = Math.min(count, first.count);
  return { pixels: toPixels(first.images.subarray(0, (first.images.length / first.count) * n), scale), count: n };
}
