// train.ema: an exponential moving average of the generator's weights, the network that draws samples when
// it is on. Batch-norm moving statistics are copied, not averaged: they must describe the averaged network's
// own activations, and the live generator's are the closest estimate (as StyleGAN's G_ema copies buffers).
import * as tf from '@tensorflow/tfjs';
import type { Train } from '../config/experiment.generated.ts';

export type EmaSettings = Exclude<Train['ema'], false>;

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

  dispose(): void {
    this.model.dispose();
  }
}
