// train.ema: an exponential moving average of the generator's weights, the network that draws samples when
// it is on. Between uses its batch-norm moving statistics are the live generator's, copied each step; before
// each use they are recomputed from its own activations (standing statistics), since the live ones describe
// other weights.
import * as tf from '@tensorflow/tfjs';
import type { Train } from '../config/experiment.generated.ts';
import { FusedBatchNorm } from '../model/layers.ts';
import { Rng } from '../random/rng.ts';

export type EmaSettings = Exclude<Train['ema'], false>;

/** The parts of a batch-norm layer that recomputing its statistics sets (tfjs-layers keeps them untyped). */
interface MovingStatistics {
  momentum: number;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

export class GeneratorAverage {
  private constructor(
    /** Same architecture as the generator; holds the averaged weights. */
    readonly model: tf.LayersModel,
    private readonly settings: EmaSettings,
  ) {}

  /** `twin` is a freshly built network of the generator's architecture; it starts as a copy of the generator. */
  static start(generator: tf.LayersModel, twin: tf.LayersModel, settings: EmaSettings): GeneratorAverage {
    twin.setWeights(generator.getWeights());
    return new GeneratorAverage(twin, settings);
  }

  /** Folds in the generator's weights after its update number `step` (1-based). */
  update(generator: tf.LayersModel, step: number): void {
    const decay = step <= this.settings.startStep ? 0 : this.settings.beta;
    const averaged = this.model.weights;
    tf.tidy(() => {
      generator.weights.forEach((live, i) => {
        const target = averaged[i]!;
        const value = live.trainable && decay > 0 ? tf.add(tf.mul(target.read(), decay), tf.mul(live.read(), 1 - decay)) : live.read().clone();
        target.write(value);
      });
    });
  }

  /**
   * The average's batch-norm moving statistics become the mean of its batch statistics over `settings.statistics`
   * batches of `batchSize` noise vectors, drawn one batch after another from Rng(seed) and passed through it in
   * training mode (BigGAN's standing statistics). Each layer's momentum is (k - 1) / k at batch k, which makes its
   * moving average exactly that mean; the weights are untouched.
   */
  recomputeStatistics(seed: number, batchSize: number): void {
    const norms = this.model.layers.filter((layer) => layer instanceof FusedBatchNorm) as unknown as MovingStatistics[];
    if (this.settings.statistics === 0 || norms.length === 0) return;
    const latentDim = this.model.inputs[0]!.shape[1]!;
    const rng = new Rng(seed);
    const momenta = norms.map((norm) => norm.momentum);
    // From zero, the first batch's statistics are copied exactly: the result does not depend on the old ones.
    tf.tidy(() => norms.forEach((norm) => [norm.movingMean, norm.movingVariance].forEach((moving) => moving.write(tf.zerosLike(moving.read())))));
    try {
      for (let k = 1; k <= this.settings.statistics; k++) {
        for (const norm of norms) norm.momentum = (k - 1) / k;
        tf.tidy(() => {
          this.model.apply(tf.tensor2d(rng.normals(batchSize * latentDim), [batchSize, latentDim]), { training: true });
        });
      }
    } finally {
      norms.forEach((norm, i) => (norm.momentum = momenta[i]!));
    }
  }

  dispose(): void {
    this.model.dispose();
  }
}
