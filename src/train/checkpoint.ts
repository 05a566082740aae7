import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.ts';
import { loadLayersModel, saveLayersModel } from '../model/io.ts';
import { diskFullReason, writeDirAtomic, writeFileAtomic } from '../io/atomic.ts';
import type { RngState } from '../random/rng.ts';

/** state.json: where training stands. Checkpoints from before step-granular resume have only epoch and step. */
export interface CheckpointPosition {
  /** The epoch in progress (or just done). */
  epoch: number;
  /** Steps of the run so far. */
  step: number;
  /** Steps of `epoch` done; every one of them at the epoch's end. */
  stepInEpoch?: number;
  /** Steps an epoch has. */
  stepsPerEpoch?: number;
  /** The random streams training draws from as it goes (noise, augment, gradientPenalty), by name. */
  random?: Record<string, RngState>;
}

export interface TrainingState extends CheckpointPosition {
  generator: tf.LayersModel;
  discriminator: tf.LayersModel;
  /** train.ema's averaged generator, saved as generator-ema/. */
  generatorAverage?: tf.LayersModel;
  optimizers: { generator: tf.Optimizer; discriminator: tf.Optimizer };
}

/** The folder of a checkpoint: epoch-NNNN at an epoch's end, epoch-NNNN-step-NNNNNNNN (the run's step) within one. */
export function checkpointFolder(position: CheckpointPosition): string {
  const epoch = `epoch-${String(position.epoch).padStart(4, '0')}`;
  const within = position.stepInEpoch !== undefined && position.stepInEpoch < (position.stepsPerEpoch ?? position.stepInEpoch);
  return within ? `${epoch}-step-${String(position.step).padStart(8, '0')}` : epoch;
}

async function saveOptimizer(optimizer: tf.Optimizer, path: string): Promise<void> {
  const weights = await optimizer.getWeights();
  const { data, specs } = await tf.io.encodeWeights(weights);
  // The iteration count is a fresh tensor; the rest are the optimizer's own variables, which stay alive.
  tf.dispose(weights.filter((w) => w.name === 'iter').map((w) => w.tensor));
  writeFileSync(`${path}.bin`, new Uint8Array(data));
  writeFileSync(`${path}.json`, JSON.stringify({ className: optimizer.getClassName(), config: optimizer.getConfig(), specs }));
}

/**
 * checkpoints/<checkpointFolder>/ with both networks, both optimizers' state and the position; then `latest.json`
 * points at it. With `name` (e.g. "best") the folder is checkpoints/<name>/ and latest.json is left alone.
 */
export async function saveCheckpoint(runDir: string, state: TrainingState, name?: string): Promise<string> {
  const { generator, discriminator, generatorAverage, optimizers, ...position } = state;
  const folder = name ?? checkpointFolder(position);
  const dir = join(runDir, 'checkpoints', folder);
  try {
    await writeDirAtomic(dir, async (temporary) => {
      for (const net of ['generator', 'discriminator'] as const) {
        const netDir = join(temporary, net);
        mkdirSync(netDir);
        await saveLayersModel(state[net], netDir);
        await saveOptimizer(state.optimizers[net], join(temporary, `optimizer-${net}`));
      }
      if (state.generatorAverage) {
        mkdirSync(join(temporary, 'generator-ema'));
        await saveLayersModel(state.generatorAverage, join(temporary, 'generator-ema'));
      }
      writeFileSync(join(temporary, 'state.json'), JSON.stringify(position));
    });
    if (name === undefined)
      writeFileAtomic(join(runDir, 'checkpoints', 'latest.json'), JSON.stringify({ checkpoint: folder, epoch: position.epoch, step: position.step }));
  } catch (error) {
    // A file-system error (a full disk, above all) names the checkpoint; anything else is a bug and stays as it is.
    if (!(error instanceof Error && 'syscall' in error)) throw error;
    throw new UserError(`${diskFullReason(error) ?? error.message} while writing checkpoint ${folder} to ${dir}`, { cause: error });
  }
  return dir;
}

/** Loads a checkpoint into a training run's networks and optimizers (built from the same config); returns its position. */
export async function restoreCheckpoint(checkpoint: string, state: Omit<TrainingState, keyof CheckpointPosition>): Promise<CheckpointPosition> {
  const load = async (model: tf.LayersModel, name: string) => {
    const saved = await loadLayersModel(join(checkpoint, name));
    model.setWeights(saved.getWeights());
    saved.dispose();
  };
  await load(state.generator, 'generator');
  await load(state.discriminator, 'discriminator');
  if (state.generatorAverage) await load(state.generatorAverage, 'generator-ema');
  for (const net of ['generator', 'discriminator'] as const) {
    const path = join(checkpoint, `optimizer-${net}`);
    const { specs } = JSON.parse(readFileSync(`${path}.json`, 'utf8')) as { specs: tf.io.WeightsManifestEntry[] };
    const bytes = readFileSync(`${path}.bin`);
    const decoded = tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), specs);
    // setWeights takes them in the saved order: iterations first, then the moments in the order of the variables.
    await state.optimizers[net].setWeights(specs.map((spec) => ({ name: spec.name, tensor: decoded[spec.name]! })));
    tf.dispose(Object.values(decoded));
  }
  return JSON.parse(readFileSync(join(checkpoint, 'state.json'), 'utf8')) as CheckpointPosition;
}
