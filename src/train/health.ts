// Signs that a GAN run has failed while it still trains, with what usually helps: the discriminator winning
// outright (its loss near 0, the generator's gradient vanishing) and mode collapse (the fixed-noise grid's
// images nearly identical, or all in one colour scheme). Each is reported once, after it has held for `patience`
// consecutive checks.
import type { Shape } from '../data/types.ts';
import type { RunWarning } from '../track/run-types.ts';
import { COLLAPSE_RATIO, COLOUR_COLLAPSE_RATIO } from '../track/collapse-thresholds.ts';
import type { LossKind } from './losses.ts';

export type WarningKind = 'discriminatorWins' | 'modeCollapse';

export type TrainingWarning = RunWarning & { kind: WarningKind };

export interface EpochMeans {
  lossD: number;
  /** Mean sigmoid(D(x)). */
  dReal: number;
  /** Mean sigmoid(D(G(z))). */
  dFake: number;
}

const REMEDIES =
  'likely remedies: lower learning rates (the DCGAN paper uses 2e-4), train.augment (DiffAugment), batch-norm epsilon 1e-5 ' +
  "instead of the lesson's 0.8, train.r1, or model.discriminator.spectralNorm with train.loss: hinge; configs/pokemon-stable.yaml uses the first three";

/** How varied the fixed-noise grid is, each as a share of the same measure on as many real images. */
export interface SampleSpread {
  /** Mean pairwise pixel distance (`spreadRatio`). */
  pixels: number;
  /** Mean pairwise distance of foreground colour histograms (`colourSpreadRatio`). */
  colours: number;
}

export class TrainingHealth {
  private readonly streaks = new Map<WarningKind, number>();
  private readonly reported = new Set<WarningKind>();

  /**
   * `warmupEpochs`: grids before then are not judged, since an untrained generator draws near-copies too
   * (its small initial weights give near-constant outputs).
   */
  constructor(
    private readonly loss: LossKind,
    private readonly warmupEpochs: number,
    private readonly patience = { epochs: 3, grids: 2 },
  ) {}

  /** After each epoch: D wins when, under bce, D(x) > 0.9, D(G(z)) < 0.1 and its loss < 0.1; under hinge, its loss < 0.05. */
  checkEpoch(epoch: number, means: EpochMeans): TrainingWarning | undefined {
    const wins = this.loss === 'bce' ? means.dReal > 0.9 && means.dFake < 0.1 && means.lossD < 0.1 : this.loss === 'hinge' && means.lossD < 0.05; // WGAN's critic loss has no "won" level
    const detail = `loss D ${means.lossD.toPrecision(3)}, D(x) ${means.dReal.toFixed(3)}, D(G(z)) ${means.dFake.toFixed(3)}`;
    return this.observe(
      'discriminatorWins',
      wins,
      this.patience.epochs,
      epoch,
      (n) => `the discriminator has won outright for ${n} epochs (${detail}): the generator gets almost no gradient and stops improving; ${REMEDIES}`,
    );
  }

  /** After each sample grid, with its spread against real images' (`sampleSpread`). */
  checkSamples(epoch: number, spread: SampleSpread): TrainingWarning | undefined {
    if (epoch <= this.warmupEpochs) return undefined;
    const percent = (ratio: number) => `${(ratio * 100).toFixed(0)}%`;
    const alike = spread.pixels < COLLAPSE_RATIO ? 'nearly identical' : 'drawn in nearly the same colours';
    return this.observe(
      'modeCollapse',
      spread.pixels < COLLAPSE_RATIO || spread.colours < COLOUR_COLLAPSE_RATIO,
      this.patience.grids,
      epoch,
      (n) =>
        `mode collapse: the fixed-noise samples have been ${alike} in ${n} grids in a row ` +
        `(their spread is ${percent(spread.pixels)} of real images' in pixels, ${percent(spread.colours)} in foreground colours); ${REMEDIES}`,
    );
  }

  private observe(kind: WarningKind, holds: boolean, patience: number, epoch: number, message: (n: number) => string): TrainingWarning | undefined {
    const streak = holds ? (this.streaks.get(kind) ?? 0) + 1 : 0;
    this.streaks.set(kind, streak);
    if (streak < patience || this.reported.has(kind)) return undefined;
    this.reported.add(kind);
    return { kind, epoch, message: message(streak) };
  }
}

/**
 * Mean distance between pairs of images, root-mean-square over pixels: `images` holds `count` images of
 * `size` values each, all on one scale. Near 0 when the images are copies of one another.
 */
export function meanPairwiseDistance(images: ArrayLike<number>, count: number, size: number): number {
  let total = 0;
  let pairs = 0;
  for (let a = 0; a < count; a++) {
    for (let b = a + 1; b < count; b++) {
      let sum = 0;
      for (let i = 0; i < size; i++) {
        const d = images[a * size + i]! - images[b * size + i]!;
        sum += d * d;
      }
      total += Math.sqrt(sum / size);
      pairs++;
    }
  }
  return pairs ? total / pairs : 0;
}

/** Spread of generated images over that of real ones, both as pixel values in [0, 1]. */
export function spreadRatio(generated: ArrayLike<number>, real: ArrayLike<number>, count: number, size: number): number {
  const realSpread = meanPairwiseDistance(real, count, size);
  return realSpread > 0 ? meanPairwiseDistance(generated, count, size) / realSpread : 1;
}

/** Bins per channel of the colour histograms: coarse, so that shades of one colour fall together. */
const COLOUR_BINS = 4;
/** A pixel is foreground when one of its channels differs from the background colour by more than this. */
const FOREGROUND_DISTANCE = 0.1;
/** The frame whose mean colour is the background. */
const BORDER = 2;

/**
 * Spread of the generated images' foreground colours over that of real ones: per image, the histogram of the
 * colours of its pixels that differ from the background (the mean colour of the real images' outer frame), so
 * that a figure's size and place do not count; then the mean pairwise distance of those histograms. Images as
 * `count` NHWC images in [0, 1].
 */
export function colourSpreadRatio(generated: ArrayLike<number>, real: ArrayLike<number>, count: number, shape: Shape): number {
  const background = borderColour(real, count, shape);
  const bins = COLOUR_BINS ** shape.channels;
  const realSpread = meanPairwiseDistance(foregroundHistograms(real, count, shape, background), count, bins);
  return realSpread > 0 ? meanPairwiseDistance(foregroundHistograms(generated, count, shape, background), count, bins) / realSpread : 1;
}

/** Both spreads of `count` generated images against as many real ones. */
export function sampleSpread(generated: ArrayLike<number>, real: ArrayLike<number>, count: number, shape: Shape): SampleSpread {
  const { height, width, channels } = shape;
  return { pixels: spreadRatio(generated, real, count, height * width * channels), colours: colourSpreadRatio(generated, real, count, shape) };
}

function borderColour(images: ArrayLike<number>, count: number, { height, width, channels }: Shape): Float64Array {
  const sum = new Float64Array(channels);
  let pixels = 0;
  for (let n = 0; n < count; n++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (y >= BORDER && y < height - BORDER && x >= BORDER && x < width - BORDER) continue;
        for (let c = 0; c < channels; c++) sum[c] += images[((n * height + y) * width + x) * channels + c]!;
        pixels++;
      }
    }
  }
  return sum.map((v) => v / pixels);
}

/** Per image, the share of its foreground pixels in each colour bin; all zeros for an image that is all background. */
function foregroundHistograms(images: ArrayLike<number>, count: number, { height, width, channels }: Shape, background: Float64Array): Float32Array {
  const bins = COLOUR_BINS ** channels;
  const histograms = new Float32Array(count * bins);
  const pixels = height * width;
  for (let n = 0; n < count; n++) {
    const histogram = histograms.subarray(n * bins, (n + 1) * bins);
    let foreground = 0;
    for (let p = 0; p < pixels; p++) {
      const at = (n * pixels + p) * channels;
      let bin = 0;
      let distance = 0;
      for (let c = 0; c < channels; c++) {
        const value = images[at + c]!;
        distance = Math.max(distance, Math.abs(value - background[c]!));
        bin = bin * COLOUR_BINS + Math.min(COLOUR_BINS - 1, Math.floor(value * COLOUR_BINS));
      }
      if (distance <= FOREGROUND_DISTANCE) continue;
      histogram[bin] += 1;
      foreground++;
    }
    if (foreground > 0) for (let b = 0; b < bins; b++) histogram[b] /= foreground;
  }
  return histograms;
}
