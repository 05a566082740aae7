// Quality metrics of generated images against real ones, with a real-vs-real baseline.
//
// Input: both sets as ImageSet (float32 NHWC in [0, 1], see images.ts: imagesFromTensor maps the
// generator's [-1, 1] output, imagesFromDataset a uint8 dataset). The real pool must hold 2n images for
// the baseline: a seeded permutation splits off two disjoint samples, A (the reference every set is
// compared with) and B; the generated set's first n images are compared with A, and B with A gives the
// real-vs-real floor (FD, KID, SWD) or ceiling (precision, recall, class share) that a perfect generator
// would reach at this sample size. Without a floor, an FD of 3 says little: FD is biased upwards for
// small n, SWD has a sampling floor, and precision/recall are below 1 even for real data.
//
// Output: plain numbers under MLflow-safe names ([/\w.\- ] only, so no '='), naming the extractor and the
// sample size; the baseline of each is the same name under real_vs_real/. With a classifier (C = its name,
// e.g. fmnist-cnn): fd/C/nN, kid/C/nN and kid_std/C/nN, precision/C/nN/k3 and recall/C/nN/k3,
// class_hist/C/nN/c<id> (the share predicted as each class: mode collapse), class_share/C/nN (the share
// predicted as one of intendedClasses), class_tv/C/nN (total variation distance between the predicted class
// histogram and the reference real sample's: half the sum of |share difference|, 0 = the same histogram) and
// class_max_gap/C/nN (the largest |share difference| of one class); with perClass, fd_class/C/nN/c<id>, the FD of
// the generated images the classifier assigns to class id against the real ones it assigns to it, at the sample size
// fd_class_n/C/nN/c<id> (the smallest of those counts; classes under 10 are left out). For any data: swd/patch7/nN/r<level height> and
// .../avg, and precision|recall/patch7/nN/k3/r<level>|avg on the same patch descriptors (normalised by the real
// sample's channel statistics, 1000 per set and level). With `background` (background.ts):
// background/frame2/nN and background/empty/nN, the mean intensity in [0, 1] of the outer 2-pixel frame and of
// the pixels where the reference sample's mean image is <= 1/255 (left out where there are none), the floor being
// the second real sample's; background_area/empty/nN the share of pixels that mask covers. With a discriminator
// (discriminator.ts; no real-vs-real value, they describe D): dead_units/discriminator/nN/<set>/block<k> and
// .../<set>/all, the share of D's channels never > 0 on the n images of <set> (real: the reference sample,
// generated), dead_cells/discriminator/nN/<set>/all the same per (row, column, channel), and
// d_prob/discriminator/nN/<set> the mean sigmoid(D(x)).
import type * as tf from '@tensorflow/tfjs';
import { emptyMask, FRAME_WIDTH, frameMask, maskArea, maskedMean } from './background.ts';
import type { Classifier } from './classifier.ts';
import { deadUnits, type DeadUnitOptions } from './discriminator.ts';
import { frechetDistance } from './frechet.ts';
import { type ImageSet, selectImages } from './images.ts';
import { kernelInceptionDistance } from './kid.ts';
import { features, type Features } from './linalg.ts';
import { kthNeighbourRadii, precisionRecall } from './precision-recall.ts';
import { deriveSeed, Rng } from '../random/rng.ts';
import { type Classified, perClassFrechet } from './per-class.ts';
import { descriptorStats, normalizeDescriptors, patchDescriptors, type PatchOptions, subsampleRows, swdOfDescriptors } from './swd.ts';

export interface MetricsOptions {
  /** Real images: at least 2n with the baseline (n without). */
  real: ImageSet;
  generated: ImageSet;
  seed: number;
  /** Images per sample, n (default 1000; fewer when the sets are smaller). */
  sampleSize?: number;
  /** Labeled data: the classifier whose features give FD, KID and precision/recall, and whose predictions the class metrics. */
  classifier?: Classifier;
  /** With the classifier: FD per class of the images it assigns to each class, each beside its floor (per-class.ts). */
  perClass?: boolean;
  /** The class ids the generator should produce (e.g. data.source.classes): adds class_share. */
  intendedClasses?: number[];
  /** Patch SWD and precision/recall (default true). */
  patchMetrics?: boolean;
  /** Background intensity of generated and real images (default false; see background.ts). */
  background?: boolean;
  /** The discriminator whose dead units are counted on the reference real sample and the generated one (discriminator.ts). */
  discriminator?: { model: tf.LayersModel } & DeadUnitOptions;
  /** Also compare a second real sample with the first (default true). */
  baseline?: boolean;
  /** KID subsets (default 100 subsets of min(1000, n/2) images). */
  kid?: { subsetSize?: number; subsets?: number };
  patches?: Omit<PatchOptions, 'seed'>;
  swd?: { directions?: number; repeats?: number };
  /** k of the k-NN precision/recall (default 3). */
  k?: number;
  /** Patch descriptors per set and level for precision/recall (default 1000). */
  patchSamples?: number;
  log?: (line: string) => void;
}

/** Metric name -> value. */
export type Metrics = Record<string, number>;

export const BASELINE_PREFIX = 'real_vs_real/';

/** The smallest sample the metrics are computed on (the k-NN estimates need k + 2 at least). */
export const MIN_EVAL_SAMPLES = 10;

export async function computeMetrics(opts: MetricsOptions): Promise<Metrics> {
  const log = opts.log ?? (() => {});
  const baseline = opts.baseline ?? true;
  const { real, generated } = opts;
  const n = Math.min(opts.sampleSize ?? 1000, generated.count, baseline ? Math.floor(real.count / 2) : real.count);
  const k = opts.k ?? 3;
  if (n < Math.max(MIN_EVAL_SAMPLES, k + 2)) {
    throw new RangeError(
      `too few images for the metrics: a sample of ${n} (generated ${generated.count}, real ${real.count}${baseline ? ', of which half for the baseline' : ''}); at least 10 are needed`,
    );
  }
  checkSameShape(real, generated);
  const order = new Rng(deriveSeed(opts.seed, 'metrics/real-sample')).permutation(real.count);
  const realA = selectImages(real, order.subarray(0, n));
  const realB = baseline ? selectImages(real, order.subarray(n, 2 * n)) : undefined;
  const fake = selectImages(
    generated,
    Array.from({ length: n }, (_, i) => i),
  );
  const sets: [string, ImageSet][] = [['', fake]];
  if (realB) sets.push([BASELINE_PREFIX, realB]);
  const out: Metrics = {};

  if (opts.classifier) {
    const classifier = opts.classifier;
    const tag = `${classifier.name}/n${n}`;
    const started = performance.now();
    const reference = features(await classifier.features(realA), classifier.featureDim);
    const referenceRadii = kthNeighbourRadii(reference, k);
    const kidOptions = { subsetSize: opts.kid?.subsetSize ?? Math.min(1000, Math.floor(n / 2)), subsets: opts.kid?.subsets ?? 100 };
    const referencePredicted = await classifier.predict(realA);
    const referenceShares = classShares(referencePredicted, classifier.config.classes);
    const classified: Record<string, Classified> = {};
    for (const [prefix, images] of sets) {
      const other = features(await classifier.features(images), classifier.featureDim);
      out[`${prefix}fd/${tag}`] = frechetDistance(other, reference);
      const kid = kernelInceptionDistance(other, reference, { ...kidOptions, seed: deriveSeed(opts.seed, 'metrics/kid') });
      out[`${prefix}kid/${tag}`] = kid.mean;
      out[`${prefix}kid_std/${tag}`] = kid.std;
      const pr = precisionRecall(reference, other, k, referenceRadii);
      out[`${prefix}precision/${tag}/k${k}`] = pr.precision;
      out[`${prefix}recall/${tag}/k${k}`] = pr.recall;

      const predicted = await classifier.predict(images);
      classified[prefix] = { features: other, predicted };
      const shares = classShares(predicted, classifier.config.classes);
      shares.forEach((share, id) => (out[`${prefix}class_hist/${tag}/c${id}`] = share));
      const gaps = shares.map((share, id) => Math.abs(share - referenceShares[id]!));
      out[`${prefix}class_tv/${tag}`] = gaps.reduce((a, b) => a + b, 0) / 2;
      out[`${prefix}class_max_gap/${tag}`] = Math.max(...gaps);
      if (opts.intendedClasses) {
        const wanted = new Set(opts.intendedClasses);
        out[`${prefix}class_share/${tag}`] = predicted.reduce((count, id) => count + (wanted.has(id) ? 1 : 0), 0) / predicted.length;
      }
    }
    if (opts.perClass) {
      const referenceSet = { features: reference, predicted: referencePredicted };
      for (const c of perClassFrechet(classified['']!, referenceSet, classified[BASELINE_PREFIX], classifier.config.classes, MIN_EVAL_SAMPLES)) {
        out[`fd_class/${tag}/c${c.id}`] = c.distance;
        if (c.floor !== undefined) out[`${BASELINE_PREFIX}fd_class/${tag}/c${c.id}`] = c.floor;
        out[`fd_class_n/${tag}/c${c.id}`] = c.count;
      }
    }
    log(`metrics: ${classifier.name} features, FD, KID, precision/recall, classes in ${seconds(started)} s`);
  }

  if (opts.background) {
    const masks: [string, Uint8Array][] = [
      [`frame${FRAME_WIDTH}`, frameMask(realA.height, realA.width)],
      ['empty', emptyMask(realA)],
    ];
    for (const [name, mask] of masks) {
      if (name === 'empty') out[`background_area/empty/n${n}`] = maskArea(mask);
      if (maskArea(mask) === 0) continue;
      for (const [prefix, images] of sets) out[`${prefix}background/${name}/n${n}`] = maskedMean(images, mask);
    }
  }

  if (opts.discriminator) {
    const { model, ...options } = opts.discriminator;
    const started = performance.now();
    for (const [set, images] of [
      ['real', realA],
      ['generated', fake],
    ] as const) {
      const dead = await deadUnits(model, images, options);
      const tag = `discriminator/n${n}/${set}`;
      dead.blocks.forEach((share, k) => (out[`dead_units/${tag}/block${k + 1}`] = share));
      out[`dead_units/${tag}/all`] = dead.all;
      out[`dead_cells/${tag}/all`] = dead.positions;
      out[`d_prob/discriminator/n${n}/${set}`] = dead.meanProbability;
    }
    log(`metrics: the discriminator's dead units in ${seconds(started)} s`);
  }

  if (opts.patchMetrics === false) return out;
  const started = performance.now();
  const patchOptions: PatchOptions = { ...opts.patches, seed: deriveSeed(opts.seed, 'metrics/patches') };
  const swdOptions = { ...opts.swd, seed: deriveSeed(opts.seed, 'metrics/swd') };
  const patchTag = `patch${patchOptions.patchSize ?? 7}/n${n}`;
  const referenceLevels = patchDescriptors(realA, patchOptions);
  const patchSamples = opts.patchSamples ?? 1000;
  // The reference sample of each level for precision/recall, normalised by its own channel statistics, and its k-NN radii.
  const referencePatches = referenceLevels.map((level, i) => {
    const stats = descriptorStats(level);
    const rows: Features = subsampleRows(normalizeDescriptors(level, stats), patchSamples, deriveSeed(opts.seed, `metrics/patch-pr/${i}`), 'reference');
    return { stats, rows, radii: kthNeighbourRadii(rows, k) };
  });
  for (const [prefix, images] of sets) {
    const levels = patchDescriptors(images, patchOptions);
    const swd = await swdOfDescriptors(referenceLevels, levels, swdOptions);
    for (const level of swd.levels) out[`${prefix}swd/${patchTag}/r${level.resolution}`] = level.swd;
    out[`${prefix}swd/${patchTag}/avg`] = swd.average;

    let precision = 0;
    let recall = 0;
    levels.forEach((level, i) => {
      const reference = referencePatches[i];
      const rows: Features = subsampleRows(normalizeDescriptors(level, reference.stats), patchSamples, deriveSeed(opts.seed, `metrics/patch-pr/${i}`), 'other');
      const pr = precisionRecall(reference.rows, rows, k, reference.radii);
      out[`${prefix}precision/${patchTag}/k${k}/r${level.resolution}`] = pr.precision;
      out[`${prefix}recall/${patchTag}/k${k}/r${level.resolution}`] = pr.recall;
      precision += pr.precision / levels.length;
      recall += pr.recall / levels.length;
    });
    out[`${prefix}precision/${patchTag}/k${k}/avg`] = precision;
    out[`${prefix}recall/${patchTag}/k${k}/avg`] = recall;
  }
  log(`metrics: patch SWD and precision/recall in ${seconds(started)} s`);
  return out;
}

/** The share of `predicted` in each of `classes` classes. */
function classShares(predicted: Int32Array, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const id of predicted) counts[id]!++;
  return counts.map((count) => count / predicted.length);
}

function checkSameShape(real: ImageSet, generated: ImageSet): void {
  if (real.height !== generated.height || real.width !== generated.width || real.channels !== generated.channels) {
    throw new RangeError(
      `the generated images are ${generated.height}x${generated.width}x${generated.channels} but the real ones ` +
        `${real.height}x${real.width}x${real.channels}: the patch metrics compare images of one shape`,
    );
  }
}

function seconds(started: number): string {
  return ((performance.now() - started) / 1000).toFixed(1);
}
