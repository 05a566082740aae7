// The memorisation check (as StudioGAN shows it): for a few generated samples, the training images closest to
// each in pixel space. Computed at report time, on the same noise as the page's first samples.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Experiment } from '../config/experiment.generated.ts';
import { loadDataset } from '../data/dataset.ts';
import type { ImageDataset } from '../data/types.ts';
import { deriveSeed, Rng } from '../random/rng.ts';
import { imageGridPng, pixelScale } from '../render/grid.ts';
import { latestCheckpoint, loadSamplingGenerator } from '../track/run-checkpoints.ts';
import type { NearestItem } from './report-data.ts';

export const NEAREST_SAMPLES = 6;
export const NEIGHBOURS = 3;

/** Generated samples (the `samples` noise stream of `seed`, as `dcgan-run sample`) in [0, 1], NHWC. */
async function generatedImages(runDir: string, config: Experiment, seed: number, channels: number): Promise<Float32Array> {
  const generator = await loadSamplingGenerator(latestCheckpoint(runDir));
  const { latentDim } = config.model;
  const scale = pixelScale(config, channels);
  const noise = tf.tensor2d(new Rng(deriveSeed(seed, 'samples')).normals(NEAREST_SAMPLES * latentDim), [NEAREST_SAMPLES, latentDim]);
  const images = generator.predict(noise) as tf.Tensor4D;
  const values = (await images.data()) as Float32Array;
  tf.dispose([noise, images]);
  generator.dispose();
  return values.map((value, i) => Math.min(1, Math.max(0, value * scale.std[i % channels] + scale.mean[i % channels])));
}

/** Indices and mean squared distances of the `k` dataset images nearest to `image` (values in [0, 1]). */
function nearestOf(image: Float32Array, dataset: ImageDataset, k: number): { index: number; distance: number }[] {
  const size = image.length;
  const best: { index: number; distance: number }[] = [];
  for (let n = 0; n < dataset.count; n++) {
    let sum = 0;
    const base = n * size;
    for (let i = 0; i < size; i++) {
      const d = image[i] - dataset.pixels[base + i] / 255;
      sum += d * d;
    }
    const distance = sum / size;
    if (best.length < k || distance < best[best.length - 1].distance) {
      best.push({ index: n, distance });
      best.sort((a, b) => a.distance - b.distance);
      if (best.length > k) best.pop();
    }
  }
  return best;
}

/** Writes nearest/sample-N.png strips (the sample, then its neighbours) under outDir; null where the training data cannot be loaded. */
export async function writeNearestImages(runDir: string, config: Experiment, outDir: string, log: (line: string) => void): Promise<NearestItem[] | null> {
  let dataset: ImageDataset;
  try {
    dataset = await loadDataset(config.data, { cacheDir: '.cache/data', log });
  } catch (error) {
    log(`report: no nearest training images (${(error as Error).message})`);
    return null;
  }
  const { height, width, channels } = dataset;
  const size = height * width * channels;
  const generated = await generatedImages(runDir, config, config.seed, channels);
  const identity = { mean: Array(channels).fill(0), std: Array(channels).fill(1) };
  mkdirSync(join(outDir, 'nearest'), { recursive: true });
  const items: NearestItem[] = [];
  for (let s = 0; s < NEAREST_SAMPLES; s++) {
    const sample = generated.subarray(s * size, (s + 1) * size);
    const neighbours = nearestOf(sample, dataset, NEIGHBOURS);
    const strip = new Float32Array((1 + neighbours.length) * size);
    strip.set(sample);
    neighbours.forEach(({ index }, i) => {
      for (let k = 0; k < size; k++) strip[(i + 1) * size + k] = dataset.pixels[index * size + k] / 255;
    });
    const src = `nearest/sample-${s}.png`;
    writeFileSync(join(outDir, src), await imageGridPng(strip, { count: 1 + neighbours.length, height, width, channels }, identity, 1 + neighbours.length));
    items.push({ src, distances: neighbours.map((n) => n.distance) });
  }
  return items;
}
