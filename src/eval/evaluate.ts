// Quality metrics during and after training: generated images from fixed noise against a seeded sample of
// the real data, with the metrics the config asks for (train.eval) and the checkpoint metric (keepBest).
import * as tf from '@tensorflow/tfjs';
import type { Experiment } from '../config/experiment.generated.ts';
import { CLASSIFIER_NEEDS_LABELS } from '../config/semantic.ts';
import { classifierSplits } from '../data/resolve-source.ts';
import { isLabeled, sourceClasses } from '../plan/source.ts';
import type { ImageDataset } from '../data/types.ts';
import { UserError } from '../errors.ts';
import { deriveSeed, Rng } from '../random/rng.ts';
import { pixelScale } from '../render/grid.ts';
import { loadOrTrainClassifier, type Classifier } from './classifier.ts';
import { imagesFromDataset, type ImageSet } from './images.ts';
import { computeMetrics, MIN_EVAL_SAMPLES, type Metrics } from './metrics.ts';

type EvalSettings = NonNullable<Experiment['train']['eval']>;
export type BestMetric = Exclude<Experiment['train']['checkpoint']['keepBest'], false>;

export interface Evaluator {
  /**
   * The metrics of `generator`'s images now; the noise is the same at every call, so epochs compare. The
   * discriminator is needed for train.eval's deadUnits (it is run and left as it was).
   */
  evaluate(generator: tf.LayersModel, discriminator?: tf.LayersModel): Promise<Metrics>;
}

const BEST_PREFIX: Record<BestMetric, { prefix: string; higherIsBetter: boolean }> = {
  fd: { prefix: 'fd/', higherIsBetter: false },
  kid: { prefix: 'kid/', higherIsBetter: false },
  swd: { prefix: 'swd/', higherIsBetter: false },
  classShare: { prefix: 'class_share/', higherIsBetter: true },
};

/** The metric a keepBest setting follows, found in an evaluation's results: its full name and which way is better. */
export function bestMetric(setting: BestMetric, values: Metrics): { name: string; value: number; higherIsBetter: boolean } {
  const { prefix, higherIsBetter } = BEST_PREFIX[setting];
  // swd reports per pyramid level and an average: the average is the one to follow.
  const name = Object.keys(values).find((key) => key.startsWith(prefix) && (setting !== 'swd' || key.endsWith('/avg')));
  if (name === undefined) throw new Error(`keepBest ${setting}: the evaluation produced no ${prefix} metric`);
  return { name, value: values[name], higherIsBetter };
}

export function isBetter(value: number, best: number | undefined, higherIsBetter: boolean): boolean {
  if (!Number.isFinite(value)) return false;
  return best === undefined || (higherIsBetter ? value > best : value < best);
}

/** The classifier for a labelled source: trained on its training split, tested on its test split when there is one. */
async function classifierFor(config: Experiment, cacheDir: string, log: (line: string) => void): Promise<Classifier> {
  const { source } = config.data;
  if (!isLabeled(source)) throw new UserError(CLASSIFIER_NEEDS_LABELS);
  const { train, test } = await classifierSplits(source, { log });
  return loadOrTrainClassifier({ train, test, cacheDir, log });
}

async function generate(
  generator: tf.LayersModel,
  noise: Float32Array,
  count: number,
  latentDim: number,
  config: Experiment,
  channels: number,
): Promise<Float32Array> {
  const scale = pixelScale(config, channels);
  const mean = tf.tensor1d(scale.mean);
  const std = tf.tensor1d(scale.std);
  const parts: Float32Array[] = [];
  // Chunks keep the memory of a large sample bounded.
  for (let start = 0; start < count; start += 256) {
    const size = Math.min(256, count - start);
    const images = tf.tidy(() => {
      const z = tf.tensor2d(noise.subarray(start * latentDim, (start + size) * latentDim), [size, latentDim]);
      return (generator.apply(z, { training: false }) as tf.Tensor4D).mul(std).add(mean).clipByValue(0, 1);
    });
    parts.push((await images.data()) as Float32Array);
    images.dispose();
  }
  tf.dispose([mean, std]);
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((offset, part) => (out.set(part, offset), offset + part.length), 0);
  return out;
}

export async function createEvaluator(
  config: Experiment,
  settings: EvalSettings,
  dataset: ImageDataset,
  options: { cacheDir: string; log: (line: string) => void },
): Promise<Evaluator> {
  const n = Math.min(settings.samples, Math.floor(dataset.count / 2));
  // Each evaluation compares n generated images with n real ones and a second n real ones (the floor).
  if (n < MIN_EVAL_SAMPLES) {
    throw new UserError(
      `train.eval: the dataset's ${dataset.count} images give samples of ${n} (half of them for the real-vs-real floor); the metrics need at least ${MIN_EVAL_SAMPLES}: use more data (data.limit) or leave train.eval out`,
    );
  }
  const classifier = settings.metrics.includes('classifier') ? await classifierFor(config, options.cacheDir, options.log) : undefined;
  // The real sample: 2n seeded images (n for comparison, n for the real-vs-real baseline), fixed for the run.
  const order = new Rng(deriveSeed(config.seed, 'eval/real')).permutation(dataset.count).subarray(0, 2 * n);
  const real: ImageSet = imagesFromDataset(dataset, order);
  const { latentDim } = config.model;
  const noise = new Rng(deriveSeed(config.seed, 'eval/noise')).normals(n * latentDim);
  const intended = sourceClasses(config.data.source);
  return {
    async evaluate(generator, discriminator) {
      const deadUnits = settings.metrics.includes('deadUnits');
      if (deadUnits && !discriminator) throw new Error('train.eval.metrics deadUnits: no discriminator was given to the evaluation');
      const values = await generate(generator, noise, n, latentDim, config, dataset.channels);
      const generated: ImageSet = { count: n, height: dataset.height, width: dataset.width, channels: dataset.channels, data: values };
      return computeMetrics({
        real,
        generated,
        seed: config.seed,
        sampleSize: n,
        classifier,
        intendedClasses: intended,
        patchMetrics: settings.metrics.includes('patches'),
        background: settings.metrics.includes('background'),
        perClass: settings.metrics.includes('perClass'),
        discriminator: deadUnits ? { model: discriminator!, batchSize: config.data.batchSize, scale: pixelScale(config, dataset.channels) } : undefined,
        log: options.log,
      });
    },
  };
}
