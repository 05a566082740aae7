// A run's checkpoints as their readers see them (sample, eval, report, resume): the latest one, through
// checkpoints/latest.json, and the generator that draws its samples. src/train/checkpoint.ts writes them.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.ts';
import { loadLayersModel } from '../model/io.ts';

/** The newest checkpoint folder of a run directory. */
export function latestCheckpoint(runDir: string): string {
  const pointer = join(runDir, 'checkpoints', 'latest.json');
  if (!existsSync(pointer)) throw new UserError(`${runDir}: no checkpoint found (checkpoints/latest.json is missing)`);
  return join(runDir, 'checkpoints', (JSON.parse(readFileSync(pointer, 'utf8')) as { checkpoint: string }).checkpoint);
}

/** The generator that draws a checkpoint's samples: the weight average (train.ema) where the run kept one. */
export async function loadSamplingGenerator(checkpoint: string): Promise<tf.LayersModel> {
  const averaged = join(checkpoint, 'generator-ema');
  return loadLayersModel(existsSync(join(averaged, 'model.json')) ? averaged : join(checkpoint, 'generator'));
}
