import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.ts';
// Register the project's own layer classes, which saved models name.
import '../model/layers.ts';
import '../model/spectral-norm.ts';
import { diskFullReason, writeDirAtomic, writeFileAtomic } from '../track/atomic.ts';

export interface TrainingState {
  generator: tf.LayersModel;
  discriminator: tf.LayersModel;
  /** train.ema's averaged generator, saved as generator-ema/. */
  generatorAverage?: tf.LayersModel;
  optimizers: { generator: tf.Optimizer; discriminator: tf.Optimizer };
  epoch: number;
  step: number;
}

/** Writes a LayersModel as model.json + weights.bin, the format tf.loadLayersModel reads. */
async function saveLayersModel(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData ?? new ArrayBuffer(0)));
      const manifest = [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }];
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as object,
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: null,
        weightsManifest: manifest,
      };
      writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
      writeFileSync(join(dir, 'weights.bin'), weights);
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
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
 * checkpoints/epoch-NNNN/ with both networks, both optimizers' state and the position; then `latest.json`
 * points at it. With `name` (e.g. "best") the folder is checkpoints/<name>/ and latest.json is left alone.
 */
export async function saveCheckpoint(runDir: string, state: TrainingState, name?: string): Promise<string> {
  const folder = name ?? `epoch-${String(state.epoch).padStart(4, '0')}`;
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
      writeFileSync(join(temporary, 'state.json'), JSON.stringify({ epoch: state.epoch, step: state.step }));
    });
    if (name === undefined) writeFileAtomic(join(runDir, 'checkpoints', 'latest.json'), JSON.stringify({ checkpoint: folder, epoch: state.epoch, step: state.step }));
  } catch (error) {
    // A file-system error (a full disk, above all) names the checkpoint; anything else is a bug and stays as it is.
    if (!(error instanceof Error && 'syscall' in error)) throw error;
    throw new UserError(`${diskFullReason(error) ?? error.message} while writing checkpoint ${folder} to ${dir}`, { cause: error });
  }
  return dir;
}

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

export async function loadLayersModel(dir: string): Promise<tf.LayersModel> {
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
  const weights = readFileSync(join(dir, 'weights.bin'));
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    }),
  );
}
