// Signs that a GAN run has failed while it still trains, with what usually helps: the discriminator winning
// outright (its loss near 0, the generator's gradient vanishing) and mode collapse (the fixed-noise grid's
// images nearly identical). Each is reported once, after it has held for `patience` consecutive checks.
import type { RunWarning } from '../track/run-types.ts';
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
  'likely remedies: lower learning rates (the DCGAN paper uses 2e-4), train.augment (DiffAugment), ' +
  'model.discriminator.spectralNorm with train.loss: hinge, or train.r1; configs/pokemon-stable.yaml uses the first two';

/** Generated images whose spread is below this share of real images' spread count as collapsed. */
export const COLLAPSE_RATIO = 0.25;

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

  /** After each sample grid: `ratio` is the grid's spread over real images' spread (see `spreadRatio`). */
  checkSamples(epoch: number, ratio: number): TrainingWarning | undefined {
    if (epoch <= this.warmupEpochs) return undefined;
    return this.observe(
      'modeCollapse',
      ratio < COLLAPSE_RATIO,
      this.patience.grids,
      epoch,
      (n) =>
        `mode collapse: the fixed-noise samples have been nearly identical in ${n} grids in a row ` +
        `(their spread is ${(ratio * 100).toFixed(0)}% of real images'); ${REMEDIES}`,
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
