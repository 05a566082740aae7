// Everything training draws as it goes comes from named, seeded streams: the noise, and the augmentation and
// gradient-penalty draws where those are on. A checkpoint saves each stream's state; a resume restores it,
// so a resumed run draws what an uninterrupted one would have.
import * as tf from '@tensorflow/tfjs';
import type { Experiment } from '../config/experiment.generated.ts';
import { deriveSeed, Rng, type RngState } from '../random/rng.ts';
import { createAugmenter } from './augment.ts';
import type { StepOptions } from './step.ts';

interface RandomStream {
  state(): RngState;
  restore(state: RngState): void;
}

export interface TrainingRandomness {
  /** The latent noise of every step. */
  noise: Rng;
  /** The step's loss, augmentation and penalties, each drawing from its own stream. */
  stepOptions: StepOptions;
  /** Every stream, by name: what a checkpoint saves. */
  streams: Record<string, RandomStream>;
}

export function trainingRandomness(config: Experiment): TrainingRandomness {
  const { loss, r1, gradientPenalty } = config.train;
  const noise = new Rng(deriveSeed(config.seed, 'noise'));
  const augmenter = createAugmenter(config.train.augment, config.seed);
  const mixRng = loss === 'wgan-gp' ? new Rng(deriveSeed(config.seed, 'gradient-penalty')) : undefined;
  return {
    noise,
    stepOptions: {
      loss,
      augment: augmenter ? (images) => augmenter.apply(images) : undefined,
      r1,
      gradientPenalty: mixRng
        ? {
            weight: gradientPenalty,
            mix: (n) =>
              tf.tensor4d(
                Float32Array.from({ length: n }, () => mixRng.next()),
                [n, 1, 1, 1],
              ),
          }
        : undefined,
    },
    streams: { noise, ...(augmenter ? { augment: augmenter } : {}), ...(mixRng ? { gradientPenalty: mixRng } : {}) },
  };
}

export function streamStates(streams: Record<string, RandomStream>): Record<string, RngState> {
  return Object.fromEntries(Object.entries(streams).map(([name, stream]) => [name, stream.state()]));
}

export function restoreStreams(streams: Record<string, RandomStream>, states: Record<string, RngState>): void {
  for (const [name, stream] of Object.entries(streams)) stream.restore(states[name]!);
}
