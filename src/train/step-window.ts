// A step's losses stay on the device until read, and reading waits for the device: they are read back every
// train.logEvery steps, all at once, with a finiteness check of the weights, and become step records.
import * as tf from '@tensorflow/tfjs';
import type { LossRecord } from '../track/run-types.ts';
import { firstNonFinite, nonFiniteWeights, STEP_VALUES, weightFiniteness } from './divergence.ts';
import type { StepMetrics } from './step.ts';

type StepValues = Record<(typeof STEP_VALUES)[number], number[]>;

export interface WindowReading {
  /** The steps before the first non-finite one. */
  records: LossRecord[];
  /** Their values, by name. */
  values: StepValues;
  /** Where and how training diverged: a step whose values are not finite, or weights that are not. */
  diverged?: { step: number; what: string };
}

export class StepWindow {
  private pending: { metrics: StepMetrics; step: number; images: number }[] = [];
  private started = Date.now();

  constructor(private readonly nets: { generator: tf.LayersModel; discriminator: tf.LayersModel }) {}

  get size(): number {
    return this.pending.length;
  }

  add(metrics: StepMetrics, step: number, images: number): void {
    this.pending.push({ metrics, step, images });
  }

  /** Reads and empties the window; the speed is the window's images over its wall time. */
  async read(epoch: number): Promise<WindowReading> {
    const pending = this.pending;
    const read = async (tensor: tf.Tensor) => {
      const values = Array.from(await tensor.data());
      tensor.dispose();
      return values;
    };
    const { generator, discriminator } = this.nets;
    const [lossD, lossG, dReal, dFake, generatorWeights, discriminatorWeights] = await Promise.all([
      ...STEP_VALUES.map((key) => read(tf.stack(pending.map((p) => p.metrics[key])))),
      read(weightFiniteness(generator)),
      read(weightFiniteness(discriminator)),
    ]);
    const columns: StepValues = { lossD, lossG, dReal, dFake };
    const seconds = (Date.now() - this.started) / 1000;
    const imagesPerSec = pending.reduce((n, p) => n + p.images, 0) / Math.max(seconds, 1e-9);
    const time = Date.now();
    const badLosses = firstNonFinite(columns);
    const badWeights = [
      ...nonFiniteWeights(generator, generatorWeights).map((name) => `generator ${name}`),
      ...nonFiniteWeights(discriminator, discriminatorWeights).map((name) => `discriminator ${name}`),
    ];
    const good = badLosses?.row ?? pending.length;
    const records: LossRecord[] = pending
      .slice(0, good)
      .map((p, i) => ({ type: 'step', step: p.step, epoch, lossD: lossD[i], lossG: lossG[i], dReal: dReal[i], dFake: dFake[i], imagesPerSec, time }));
    const values = Object.fromEntries(STEP_VALUES.map((key) => [key, columns[key].slice(0, good)])) as StepValues;
    const diverged =
      badLosses || badWeights.length > 0
        ? {
            step: badLosses ? pending[badLosses.row].step : pending[pending.length - 1].step,
            what: badLosses?.what ?? `weights are not finite (NaN or infinite) while the losses still were: ${badWeights.join(', ')}`,
          }
        : undefined;
    for (const p of pending) tf.dispose(Object.values(p.metrics));
    this.pending = [];
    this.started = Date.now();
    return { records, values, diverged };
  }
}
