// The stable-GAN options of the training step against their definitions: the losses of train.loss, the
// generator's weight average (train.ema) and the run-health warnings.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { buildGenerator } from '../src/model/build.ts';
import { makeAdam } from '../src/train/step.ts';
import { GeneratorAverage, type EmaSettings } from '../src/train/ema.ts';
import { FusedBatchNorm } from '../src/model/layers.ts';
import { loadLayersModel } from '../src/model/io.ts';
import { deriveSeed, Rng } from '../src/random/rng.ts';
import { colourSpreadRatio, meanPairwiseDistance, sampleSpread, spreadRatio, TrainingHealth } from '../src/train/health.ts';
import { discriminatorLoss, generatorLoss } from '../src/train/losses.ts';
import { mnistModel } from './parity/fixtures.ts';
import { createProgress } from '../src/train/progress.ts';
import { train } from '../src/train/trainer.ts';
import { readLossRecords } from '../src/track/run-dir.ts';
import { COLLAPSE_RATIO, COLOUR_COLLAPSE_RATIO } from '../src/track/collapse-thresholds.ts';
import { STABLE, tinyExperiment } from './support/tiny-config.ts';

await tf.setBackend('cpu');

const REAL = [2.5, 0.5, -1];
const FAKE = [-3, 0.25, 1.5];
const softplus = (x: number) => Math.log1p(Math.exp(x));
const meanOf = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

function losses(kind: 'bce' | 'hinge' | 'wgan-gp') {
  return tf.tidy(() => {
    const real = tf.tensor2d(REAL, [3, 1]);
    const fake = tf.tensor2d(FAKE, [3, 1]);
    return { d: discriminatorLoss(kind, real, fake).dataSync()[0]!, g: generatorLoss(kind, fake).dataSync()[0]! };
  });
}

describe('train.loss', () => {
  it('bce: D (BCE(D(x), 1) + BCE(D(G(z)), 0)) / 2, G BCE(D(G(z)), 1), from logits', () => {
    const { d, g } = losses('bce');
    // BCE(sigmoid(l), 1) = softplus(-l); BCE(sigmoid(l), 0) = softplus(l).
    assert.ok(Math.abs(d - (meanOf(REAL.map((l) => softplus(-l))) + meanOf(FAKE.map(softplus))) / 2) < 1e-6);
    assert.ok(Math.abs(g - meanOf(FAKE.map((l) => softplus(-l)))) < 1e-6);
  });

  it('hinge: D mean(relu(1 - D(x))) + mean(relu(1 + D(G(z)))), G -mean(D(G(z)))', () => {
    const { d, g } = losses('hinge');
    // real margins: 0, 0.5, 2; fake margins: 0, 1.25, 2.5.
    assert.ok(Math.abs(d - (2.5 / 3 + 3.75 / 3)) < 1e-6, String(d));
    assert.ok(Math.abs(g - -meanOf(FAKE)) < 1e-6);
  });

  it('wgan-gp: critic mean(D(G(z))) - mean(D(x)), G -mean(D(G(z))) (the penalty is added by the step)', () => {
    const { d, g } = losses('wgan-gp');
    assert.ok(Math.abs(d - (meanOf(FAKE) - meanOf(REAL))) < 1e-6);
    assert.ok(Math.abs(g - -meanOf(FAKE)) < 1e-6);
  });
});

describe('train.ema', () => {
  const model = mnistModel({ latentDim: 4, generator: { blocks: 2, baseChannels: 4 } });
  const weights = (m: tf.LayersModel) => m.weights.map((w) => ({ name: w.originalName, trainable: w.trainable, values: Array.from(w.read().dataSync()) }));

  it('starts as a copy, then averages trainable weights as beta * average + (1 - beta) * live and copies batch-norm statistics', () => {
    const generator = buildGenerator(model, 1, 1);
    const average = GeneratorAverage.start(generator, buildGenerator(model, 1, 2), { beta: 0.9, startStep: 0, statistics: 8 });
    assert.deepEqual(weights(average.model), weights(generator));

    const before = weights(average.model);
    // A different network's weights stand in for the generator after an update.
    generator.setWeights(buildGenerator(model, 1, 3).getWeights());
    average.update(generator, 1);
    const live = weights(generator);
    const after = weights(average.model);
    let averaged = 0;
    after.forEach((w, i) => {
      assert.equal(w.name, live[i]!.name);
      const expected = w.trainable ? before[i]!.values.map((b, j) => 0.9 * b + 0.1 * live[i]!.values[j]!) : live[i]!.values;
      w.values.forEach((v, j) => assert.ok(Math.abs(v - expected[j]!) < 1e-6, `${w.name}[${j}]: ${v} vs ${expected[j]}`));
      if (w.trainable) averaged++;
    });
    assert.ok(averaged > 0 && averaged < after.length, 'both trainable weights and moving statistics were checked');
    generator.dispose();
    average.dispose();
  });

  it('copies the weights unaveraged up to startStep', () => {
    const generator = buildGenerator(model, 1, 1);
    const average = GeneratorAverage.start(generator, buildGenerator(model, 1, 2), { beta: 0.999, startStep: 2, statistics: 8 });
    generator.setWeights(buildGenerator(model, 1, 3).getWeights());
    average.update(generator, 2);
    assert.deepEqual(weights(average.model), weights(generator));
    const numTensors = tf.memory().numTensors;
    average.update(generator, 3);
    assert.equal(tf.memory().numTensors, numTensors, 'no tensor leaks');
    generator.dispose();
    average.dispose();
  });
});

describe('train.ema.statistics', () => {
  const model = mnistModel({ latentDim: 4, generator: { blocks: 2, baseChannels: 4 } });
  const norms = (m: tf.LayersModel) => m.layers.filter((layer) => layer instanceof FusedBatchNorm);
  /** Each batch norm's moving mean and variance. */
  const statistics = (m: tf.LayersModel) =>
    norms(m).map((layer) =>
      layer
        .getWeights()
        .slice(2)
        .map((w) => Array.from(w.dataSync())),
    );
  /** An average whose weights differ from the live generator's, with the live generator's statistics copied into it. */
  function averaged(settings: { statistics: number }) {
    const generator = buildGenerator(model, 1, 1);
    const average = GeneratorAverage.start(generator, buildGenerator(model, 1, 2), { beta: 0.5, startStep: 0, ...settings });
    generator.setWeights(buildGenerator(model, 1, 3).getWeights());
    average.update(generator, 1);
    return { generator, average };
  }

  it("makes the average's moving statistics the mean of its own batch means and biased variances over the noise batches", () => {
    const { generator, average } = averaged({ statistics: 3 });
    // The same weights in a separate network: each batch norm's input, for the same noise batches, in training mode.
    const probe = buildGenerator(model, 1, 4);
    probe.setWeights(average.model.getWeights());
    const inputs = norms(probe).map((layer) => tf.model({ inputs: probe.inputs, outputs: layer.input as tf.SymbolicTensor }));
    const rng = new Rng(11);
    const sums = inputs.map(() => ({ mean: [] as number[], variance: [] as number[] }));
    for (let k = 0; k < 3; k++) {
      const noise = tf.tensor2d(rng.normals(5 * 4), [5, 4]);
      inputs.forEach((input, i) =>
        tf.tidy(() => {
          const { mean, variance } = tf.moments(input.apply(noise, { training: true }) as tf.Tensor4D, [0, 1, 2]);
          const add = (into: number[], values: Float32Array | Int32Array | Uint8Array) => values.forEach((v, j) => (into[j] = (into[j] ?? 0) + v / 3));
          add(sums[i]!.mean, mean.dataSync());
          add(sums[i]!.variance, variance.dataSync());
        }),
      );
      noise.dispose();
    }
    average.recomputeStatistics(11, 5);
    const got = statistics(average.model);
    assert.equal(got.length, 2, "both of G's batch norms");
    got.forEach(([mean, variance], i) => {
      const close = (a: number[], b: number[], what: string) =>
        a.forEach((v, j) => assert.ok(Math.abs(v - b[j]!) <= 1e-5 * Math.max(1, Math.abs(b[j]!)), `${what} ${i}[${j}]: ${v} vs ${b[j]}`));
      close(mean!, sums[i]!.mean, 'mean');
      close(variance!, sums[i]!.variance, 'variance');
    });
    assert.notDeepEqual(got, statistics(generator), "no longer the live generator's");
    assert.deepEqual(
      norms(average.model).map((layer) => (layer as unknown as { momentum: number }).momentum),
      [0.9, 0.9],
      'momentum restored',
    );
    const numTensors = tf.memory().numTensors;
    average.recomputeStatistics(11, 5);
    assert.equal(tf.memory().numTensors, numTensors, 'no tensor leaks');
    assert.deepEqual(statistics(average.model), got, 'the same seed gives the same statistics');
    generator.dispose();
    average.dispose();
    probe.dispose();
  });

  it("with statistics: 0 keeps the live generator's statistics", () => {
    const { generator, average } = averaged({ statistics: 0 });
    average.recomputeStatistics(11, 5);
    assert.deepEqual(statistics(average.model), statistics(generator));
    generator.dispose();
    average.dispose();
  });

  it('a real run saves the average with the statistics recomputed at the step of the checkpoint', async () => {
    const { config, file } = tinyExperiment({}, [...STABLE, 'train.ema={beta: 0.5, statistics: 2}']);
    const { runDir, summary } = await train(config, { configFile: file, progress: createProgress({ quiet: true }) });
    const checkpoint = join(runDir, 'checkpoints', 'epoch-0002');
    const [saved, live] = [await loadLayersModel(join(checkpoint, 'generator-ema')), await loadLayersModel(join(checkpoint, 'generator'))];
    const recomputed = GeneratorAverage.start(saved, buildGenerator(config.model, 3, 1), config.train.ema as EmaSettings);
    recomputed.recomputeStatistics(deriveSeed(config.seed, `ema-statistics:${summary.steps}`), config.data.batchSize);
    assert.deepEqual(statistics(saved), statistics(recomputed.model));
    assert.notDeepEqual(statistics(saved), statistics(live));
    [saved, live].forEach((m) => m.dispose());
    recomputed.dispose();
  });
});

describe('run-health warnings', () => {
  const won = { lossD: 0.01, dReal: 0.99, dFake: 0.01 };
  const healthy = { lossD: 0.6, dReal: 0.6, dFake: 0.4 };

  it('says once that the discriminator wins, after 3 epochs in a row, naming the figures and the remedies', () => {
    const health = new TrainingHealth('bce', 0);
    assert.equal(health.checkEpoch(1, won), undefined);
    assert.equal(health.checkEpoch(2, won), undefined);
    assert.equal(health.checkEpoch(3, healthy), undefined, 'the streak is broken');
    assert.equal(health.checkEpoch(4, won), undefined);
    assert.equal(health.checkEpoch(5, won), undefined);
    const warning = health.checkEpoch(6, won);
    assert.equal(warning?.kind, 'discriminatorWins');
    assert.equal(warning?.epoch, 6);
    assert.match(warning!.message, /won outright for 3 epochs \(loss D 0\.0100, D\(x\) 0\.990, D\(G\(z\)\) 0\.010\)/);
    assert.match(warning!.message, /train\.augment/);
    assert.equal(health.checkEpoch(7, won), undefined, 'reported once');
  });

  it('warns in a real run that learning rate 10 with init std 10 lets D win and draws saturated noise (the run finishes, losses finite)', async () => {
    const epochCount = 10;
    const { config, file } = tinyExperiment({}, [
      `train.epochs=${epochCount}`,
      'train.optimizers.generator.learningRate=10',
      'train.optimizers.discriminator.learningRate=10',
      'model.init.std=10',
    ]);
    const lines: string[] = [];
    const { summary, runDir } = await train(config, { configFile: file, progress: { startEpoch() {}, step() {}, endEpoch() {}, log: (l) => lines.push(l) } });
    assert.equal(summary.status, 'finished');
    const epochs = readLossRecords(runDir).filter((r) => r.type === 'epoch');
    assert.deepEqual(
      epochs.map((r) => r.epoch),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
    for (const r of epochs) assert.ok(r.sampleSpread && r.sampleSpread.pixels >= 0 && r.sampleSpread.colours >= 0, JSON.stringify(r));
    // The run is chaotic (the epoch each state begins moves with any change in the float rounding of a step), so the
    // warnings are checked against the epoch records they are drawn from: D wins from the third epoch in a row with
    // D(x) > 0.9, D(G(z)) < 0.1 and loss D < 0.1; the samples collapse from the second grid in a row after the
    // warm-up (the first fifth of the epochs) with either spread under its threshold.
    const firstStreak = (holds: (r: (typeof epochs)[number]) => boolean, length: number, after = 0) =>
      epochs.find((_, i) => i + 1 >= after + length && epochs.slice(i + 1 - length, i + 1).every(holds))?.epoch;
    const winsAt = firstStreak((r) => r.dReal > 0.9 && r.dFake < 0.1 && r.lossD < 0.1, 3);
    const collapseAt = firstStreak((r) => r.sampleSpread!.pixels < COLLAPSE_RATIO || r.sampleSpread!.colours < COLOUR_COLLAPSE_RATIO, 2, epochCount / 5);
    assert.ok(winsAt !== undefined && collapseAt !== undefined, JSON.stringify(epochs));
    assert.deepEqual(
      summary.warnings?.map((w) => [w.kind, w.epoch]),
      [
        ['modeCollapse', collapseAt],
        ['discriminatorWins', winsAt],
      ].sort((a, b) => (a[1] as number) - (b[1] as number)),
    );
    // G's tanh saturates: every image is noise of the 8 corner colours, varied pixel by pixel, alike in colours.
    const collapse = summary.warnings!.find((w) => w.kind === 'modeCollapse')!;
    const [, pixels, colours] =
      /drawn in nearly the same colours in 2 grids in a row \(their spread is (\d+)% of real images' in pixels, (\d+)% in foreground colours/.exec(
        collapse.message,
      )!;
    // The warning quotes its epoch's record.
    const spread = epochs[collapseAt - 1]!.sampleSpread!;
    assert.deepEqual([(spread.pixels * 100).toFixed(0), (spread.colours * 100).toFixed(0)], [pixels, colours]);
    assert.ok(spread.colours < COLOUR_COLLAPSE_RATIO && spread.pixels >= COLLAPSE_RATIO);
    assert.ok(
      lines.some((l) => l.startsWith('warning: the discriminator has won outright for 3 epochs')),
      lines.join('\n'),
    );
  });

  it('judges hinge by its loss alone and never warns for a WGAN critic', () => {
    const hinge = new TrainingHealth('hinge', 0, { epochs: 1, grids: 1 });
    assert.equal(hinge.checkEpoch(1, { lossD: 0.01, dReal: 0.73, dFake: 0.27 })?.kind, 'discriminatorWins');
    const wgan = new TrainingHealth('wgan-gp', 0, { epochs: 1, grids: 1 });
    assert.equal(wgan.checkEpoch(1, { lossD: -50, dReal: 1, dFake: 0 }), undefined);
  });

  it('says that samples collapsed when the fixed-noise grid is far less spread than real images, twice in a row after the warm-up', () => {
    const size = 4;
    const real = Float32Array.from([0, 0, 0, 0, 1, 1, 1, 1, 0, 1, 0, 1]);
    const copies = Float32Array.from([0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.52, 0.5, 0.5, 0.5]);
    // Pairs of real: distances 1, sqrt(0.5), sqrt(0.5).
    assert.ok(Math.abs(meanPairwiseDistance(real, 3, size) - (1 + 2 * Math.SQRT1_2) / 3) < 1e-6);
    const ratio = spreadRatio(copies, real, 3, size);
    assert.ok(ratio < 0.02, String(ratio));
    assert.equal(spreadRatio(real, real, 3, size), 1);
    const spread = { pixels: ratio, colours: 1 };
    const health = new TrainingHealth('bce', 2);
    assert.equal(health.checkSamples(2, spread), undefined, 'an untrained generator draws near-copies too: not judged in the warm-up');
    assert.equal(health.checkSamples(3, spread), undefined);
    const warning = health.checkSamples(4, spread);
    assert.equal(warning?.kind, 'modeCollapse');
    assert.match(warning!.message, /nearly identical in 2 grids in a row \(their spread is 1% of real images' in pixels, 100% in foreground colours\)/);
    assert.equal(health.checkSamples(5, spread), undefined, 'reported once');
  });

  it('counts one colour scheme in different sizes and places as collapsed: the spread of foreground colour histograms', () => {
    // 6x6 RGB images on white; the background is the mean colour of the real images' 2-pixel frame.
    const shape = { height: 6, width: 6, channels: 3 };
    const image = (colour: number[], pixels: [number, number][]) => {
      const values = new Float32Array(6 * 6 * 3).fill(1);
      for (const [y, x] of pixels) values.set(colour, (y * 6 + x) * 3);
      return values;
    };
    const concat = (...images: Float32Array[]) => Float32Array.from(images.flatMap((i) => [...i]));
    const [red, green, blue] = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ];
    const real = concat(image(red!, [[2, 2]]), image(green!, [[2, 3]]), image(blue!, [[3, 3]]));
    // Real: three one-hot histograms over 4^3 bins, each pair sqrt(2 / 64) apart.
    assert.equal(colourSpreadRatio(real, real, 3, shape), 1);
    // Generated: red figures of 1, 2 and 4 pixels in other places: the same histogram, so no colour spread at all,
    // while their pixels are spread more than a third as much as the real images'.
    const reds = concat(
      image(red!, [[2, 2]]),
      image(red!, [
        [3, 2],
        [3, 3],
      ]),
      image(red!, [
        [2, 2],
        [2, 3],
        [3, 2],
        [3, 3],
      ]),
    );
    const spread = sampleSpread(reds, real, 3, shape);
    assert.equal(spread.colours, 0);
    assert.ok(spread.pixels > 0.3, String(spread.pixels));
    // Shades within a quarter of the range fall in one bin: two of the three pairs differ.
    const shades = concat(image([0.9, 0, 0], [[2, 2]]), image([1, 0.2, 0.1], [[2, 3]]), image([0, 0, 1], [[3, 3]]));
    assert.ok(Math.abs(colourSpreadRatio(shades, real, 3, shape) - 2 / 3) < 1e-6);
    // An image that is all background has an empty histogram: sqrt(1 / 64) from each one-hot one.
    const blank = concat(image(red!, []), image(green!, [[2, 3]]), image(blue!, [[3, 3]]));
    assert.ok(Math.abs(colourSpreadRatio(blank, real, 3, shape) - (2 * Math.sqrt(1 / 64) + Math.sqrt(2 / 64)) / 3 / Math.sqrt(2 / 64)) < 1e-6);
    const health = new TrainingHealth('bce', 0, { epochs: 1, grids: 1 });
    assert.match(
      health.checkSamples(1, spread)!.message,
      /drawn in nearly the same colours in 1 grids in a row \(their spread is \d+% of real images' in pixels, 0% in foreground colours/,
    );
  });

  it("flags the first recipe's grid of near-copies and not the revised recipe's varied one, against real sprites", async () => {
    // docs/results.md: the first stable recipe's seed 2 after 30 epochs drew 21 brown-grey blobs of different sizes
    // (the pixel measure alone missed them); the revised recipe after 14 epochs draws figures of many colours.
    const sprites = join(import.meta.dirname, '../node_modules/pokesprite-images/pokemon-gen8/regular');
    const files = readdirSync(sprites)
      .filter((f) => f.endsWith('.png'))
      .sort();
    const count = 21;
    const size = 64 * 64 * 3;
    const real = new Float32Array(count * size);
    for (let n = 0; n < count; n++) {
      const file = files[Math.floor((n * files.length) / count)]!;
      const pixels = await sharp(join(sprites, file)).flatten({ background: '#ffffff' }).resize(64, 64, { fit: 'fill', kernel: 'linear' }).raw().toBuffer();
      real.set(
        Float32Array.from(pixels, (v) => v / 255),
        n * size,
      );
    }
    const grid = async (name: string) => {
      const { data, info } = await sharp(join(import.meta.dirname, '../docs/results/recipes', name))
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      const images = new Float32Array(count * size);
      for (let n = 0; n < count; n++) {
        const top = 2 + Math.floor(n / 7) * 66;
        const left = 2 + (n % 7) * 66;
        for (let y = 0; y < 64; y++)
          for (let x = 0; x < 64 * 3; x++) images[n * size + y * 64 * 3 + x] = data[(top + y) * info.width * 3 + left * 3 + x]! / 255;
      }
      return sampleSpread(images, real, count, { height: 64, width: 64, channels: 3 });
    };
    const collapsed = await grid('stable-seed2-epoch30.png');
    const varied = await grid('revised-seed2-epoch14.png');
    assert.ok(collapsed.pixels > 0.4, `the pixel measure alone misses it: ${collapsed.pixels}`);
    assert.ok(collapsed.colours < 0.4, `colours ${collapsed.colours}`);
    assert.ok(varied.pixels > 0.6 && varied.colours > 0.6, JSON.stringify(varied));
    const health = (spread: typeof varied) => new TrainingHealth('bce', 0, { epochs: 1, grids: 1 }).checkSamples(1, spread)?.kind;
    assert.equal(health(collapsed), 'modeCollapse');
    assert.equal(health(varied), undefined);
  });
});

describe('Adam', () => {
  it('takes its first steps with bias corrections in doubles, as PyTorch (tfjs-core keeps beta^t in float32)', () => {
    const settings = { kind: 'adam' as const, learningRate: 0.005, beta1: 0.5, beta2: 0.999, epsilon: 1e-8 };
    const gradients = [
      [0.3, -2, 1e-3],
      [0.1, 0.5, -4],
    ];
    // Each step's update, from the definition in doubles: lr * m / (1 - b1^t) / (sqrt(v / (1 - b2^t)) + eps).
    const expected: number[][] = [];
    let m = [0, 0, 0];
    let v = [0, 0, 0];
    gradients.forEach((g, step) => {
      const t = step + 1;
      m = m.map((mi, i) => settings.beta1 * mi + (1 - settings.beta1) * g[i]!);
      v = v.map((vi, i) => settings.beta2 * vi + (1 - settings.beta2) * g[i]! ** 2);
      expected.push(
        m.map((mi, i) => (settings.learningRate * mi) / (1 - settings.beta1 ** t) / (Math.sqrt(v[i]! / (1 - settings.beta2 ** t)) + settings.epsilon)),
      );
    });
    const updates = (optimizer: tf.Optimizer) => {
      const variable = tf.variable(tf.zeros([3]), true, `adam_bias_${Math.random()}`);
      const out = gradients.map((g) => {
        const before = Array.from(variable.dataSync());
        const gradient = tf.tensor1d(g);
        optimizer.applyGradients({ [variable.name]: gradient });
        gradient.dispose();
        return Array.from(variable.dataSync()).map((after, i) => before[i]! - after);
      });
      variable.dispose();
      optimizer.dispose();
      return out;
    };
    const worst = (got: number[][]) => Math.max(...got.flatMap((row, s) => row.map((u, i) => Math.abs(u - expected[s]![i]!) / Math.abs(expected[s]![i]!))));
    const ours = worst(updates(makeAdam(settings)));
    const stock = worst(updates(tf.train.adam(settings.learningRate, settings.beta1, settings.beta2, settings.epsilon)));
    assert.ok(ours < 2e-6, `ours: ${ours}`);
    assert.ok(stock > 5e-6, `tfjs-core's float32 beta^t: ${stock} (the comparison would be blind to it)`);
  });
});

describe('progress output', () => {
  it('shows warnings with --quiet, and nothing else', () => {
    const written: string[] = [];
    const stream = { write: (text: string) => written.push(text), isTTY: false } as unknown as NodeJS.WriteStream;
    const quiet = createProgress({ quiet: true, stream, prefix: 'trial-1' });
    quiet.log('epoch 1/2: loss D 0.5');
    quiet.warn!('the discriminator has won outright');
    assert.deepEqual(written, ['[trial-1] warning: the discriminator has won outright\n']);
  });
});
