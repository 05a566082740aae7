import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.ts';
import { useBackend } from '../backend/select.ts';
import { deriveSeed, Rng } from '../random/rng.ts';
import { imageGridPng, pixelScale } from '../render/grid.ts';
import { latestCheckpoint, loadSamplingGenerator } from '../track/run-checkpoints.ts';
import { readRunConfig } from '../track/run-dir.ts';
import { statusNote } from '../track/run-state.ts';

/** Generates a grid from the latest checkpoint of a run, without training. */
export async function sampleCommand(runDir: string, options: { count: number; out: string; seed?: number }): Promise<void> {
  if (!Number.isInteger(options.count) || options.count < 1) throw new UserError('--count must be a positive integer');
  const config = readRunConfig(runDir);
  const note = statusNote(runDir);
  if (note) process.stderr.write(`${note}\n`);
  await useBackend(config.train.backend);
  const checkpoint = latestCheckpoint(runDir);
  const generator = await loadSamplingGenerator(checkpoint);
  const seed = options.seed ?? config.seed;
  const { latentDim } = config.model;
  const noise = tf.tensor2d(new Rng(deriveSeed(seed, 'samples')).normals(options.count * latentDim), [options.count, latentDim]);
  const images = generator.predict(noise) as tf.Tensor4D;
  const [count, height, width, channels] = images.shape;
  const png = await imageGridPng((await images.data()) as Float32Array, { count, height, width, channels }, pixelScale(config, channels));
  tf.dispose([noise, images]);
  writeFileSync(options.out, png);
  process.stdout.write(`wrote ${options.out}: ${count} samples from ${checkpoint}\n`);
}
