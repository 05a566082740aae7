// The eval's diagnostics beside the distances: background intensity (src/eval/background.ts), the
// discriminator's dead units (src/eval/discriminator.ts) and the class histogram's distance to the real one,
// each checked against its definition on inputs whose answer is known by hand; and train.eval's wiring of them.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../src/backend/select.ts';
import { emptyMask, frameMask, maskArea, maskedMean } from '../src/eval/background.ts';
import type { Classifier } from '../src/eval/classifier.ts';
import { deadUnits } from '../src/eval/discriminator.ts';
import type { ImageSet } from '../src/eval/images.ts';
import { BASELINE_PREFIX, computeMetrics } from '../src/eval/metrics.ts';
import { buildDiscriminator } from '../src/model/build.ts';
import { Rng } from '../src/random/rng.ts';
import type { Progress } from '../src/train/progress.ts';
import { train } from '../src/train/trainer.ts';
import { readMetrics } from '../src/track/run-dir.ts';
import { STABLE, tinyExperiment } from './support/tiny-config.ts';

before(async () => {
  await useBackend('cpu');
});

/** `count` images of height x width x channels, each pixel given by f(image, row, column, channel). */
function images(count: number, height: number, width: number, channels: 1 | 3, f: (n: number, y: number, x: number, c: number) => number): ImageSet {
  const data = new Float32Array(count * height * width * channels);
  for (let n = 0; n < count; n++)
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) data[((n * height + y) * width + x) * channels + c] = f(n, y, x, c);
  return { count, height, width, channels, data };
}

const close = (actual: number, expected: number, tol = 1e-6) => assert.ok(Math.abs(actual - expected) <= tol, `${actual} is not ${expected}`);

describe('background intensity', () => {
  test('the frame, the empty mask and the masked mean follow their definitions', () => {
    const frame = frameMask(6, 6, 2);
    assert.equal(
      frame.reduce((a, b) => a + b, 0),
      32,
      '36 pixels less the 2x2 centre',
    );
    assert.deepEqual([frame[2 * 6 + 2], frame[3 * 6 + 3], frame[0], frame[2 * 6 + 1]], [0, 0, 1, 1]);
    assert.equal(
      frameMask(28, 28).reduce((a, b) => a + b, 0),
      28 * 28 - 24 * 24,
    );

    // Pixel (0,0) black in both images; (0,1) 1/255 in one: mean 0.5/255, empty; (1,1) 3/255 in one: 1.5/255, not.
    const two = images(2, 4, 4, 1, (n, y, x) => (y === 0 && x === 1 && n === 0 ? 1 / 255 : y === 1 && x === 1 && n === 0 ? 3 / 255 : y >= 2 ? 0.5 : 0));
    const empty = emptyMask(two);
    assert.deepEqual([empty[0], empty[1], empty[5], empty[8]], [1, 1, 0, 0]);
    close(maskArea(empty), 7 / 16);

    const rgb = images(2, 2, 2, 3, (n, y, x, c) => n * 0.5 + c * 0.1 + (y + x === 0 ? 0.05 : 0));
    const corner = Uint8Array.from([1, 0, 0, 0]);
    // The corner pixel's three channels in both images: ((0.05 + 0.15 + 0.25) + (0.55 + 0.65 + 0.75)) / 6.
    close(maskedMean(rgb, corner), (0.45 + 1.95) / 6);
    assert.ok(Number.isNaN(maskedMean(rgb, new Uint8Array(4))));
    assert.throws(() => maskedMean(rgb, new Uint8Array(3)), RangeError);
  });

  test('computeMetrics reports the generated and the real background under the metric-name convention', async () => {
    // Real: black with a 10x10 garment at 0.8 in the middle. Generated: a 0.1 frame, 0.2 elsewhere, 0.9 in the middle.
    const middle = (y: number, x: number) => y >= 9 && y < 19 && x >= 9 && x < 19;
    const real = images(40, 28, 28, 1, (_, y, x) => (middle(y, x) ? 0.8 : 0));
    const frame = frameMask(28, 28);
    const generated = images(20, 28, 28, 1, (_, y, x) => (middle(y, x) ? 0.9 : frame[y * 28 + x] ? 0.1 : 0.2));
    const m = await computeMetrics({ real, generated, seed: 3, sampleSize: 20, patchMetrics: false, background: true });
    close(m['background/frame2/n20']!, 0.1);
    assert.equal(m[`${BASELINE_PREFIX}background/frame2/n20`], 0);
    close(m['background_area/empty/n20']!, (784 - 100) / 784);
    close(m['background/empty/n20']!, (208 * 0.1 + 476 * 0.2) / 684);
    assert.equal(m[`${BASELINE_PREFIX}background/empty/n20`], 0);
    // Light backgrounds have no empty pixels: that metric is left out, its area is 0.
    const white = images(40, 28, 28, 1, () => 1);
    const light = await computeMetrics({ real: white, generated, seed: 3, sampleSize: 20, patchMetrics: false, background: true });
    assert.equal(light['background_area/empty/n20'], 0);
    assert.ok(!('background/empty/n20' in light) && 'background/frame2/n20' in light);
  });
});

describe("the discriminator's dead units", () => {
  /** The tiny config's D (8x8 RGB; block 1: 4 channels at 4x4, block 2: 8 at 2x2) without batch norm, weights set by hand. */
  function handMadeDiscriminator(activation: string): tf.LayersModel {
    const { config } = tinyExperiment({}, ['model.discriminator.batchNorm=false', `model.discriminator.activation=${activation}`]);
    const d = buildDiscriminator(config.model, 3, 1);
    // Block 1 (kernel 4x4x3x4): ch0 bias -1 (always -1: dead); ch1 bias +1 (alive); ch2 and ch3 sum input channel 0
    // over the taps, with bias 10 and 0. A 4x4 stride-2 'same' window on 8x8 sees 3, 4, 4, 3 rows (and columns),
    // so 9 taps at the corners, 12 on the edges, 16 inside: on black (input -1) ch2 is 10 - taps, alive only at
    // the 4 corners, ch3 is -taps, dead; on a white image (+1) both are positive everywhere.
    const kernel1 = new Float32Array(4 * 4 * 3 * 4);
    for (let tap = 0; tap < 16; tap++) for (const out of [2, 3]) kernel1[(tap * 3 + 0) * 4 + out] = 1;
    // Block 2: zero kernel, biases +1, -1, 0, ...: 3 of 8 channels alive, everywhere. The logit is 0.3 always.
    const bias2 = [1, -1, 0, 1, -1, 0, 1, -1];
    d.getLayer('d_block1_conv').setWeights([tf.tensor4d(kernel1, [4, 4, 3, 4]), tf.tensor1d([-1, 1, 10, 0])]);
    d.getLayer('d_block2_conv').setWeights([tf.zeros([4, 4, 4, 8]), tf.tensor1d(bias2)]);
    d.getLayer('d_out_conv').setWeights([tf.zeros([2, 2, 8, 1]), tf.tensor1d([0.3])]);
    return d;
  }
  const scale = { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };
  const black = images(10, 8, 8, 3, () => 0);
  // The same, but the last image (in the last batch of 4) white.
  const lastWhite = images(10, 8, 8, 3, (n) => (n === 9 ? 1 : 0));

  for (const activation of ['{kind: relu}', '{kind: leakyRelu, alpha: 0.2}']) {
    test(`channels and cells never > 0, per block and over all, across batches (${activation})`, async () => {
      const d = handMadeDiscriminator(activation);
      const onBlack = await deadUnits(d, black, { batchSize: 4, scale });
      // Block 1: ch0 and ch3 dead (2/4); block 2: 5/8; all: 7/12. Cells: block 1 16 + 0 + 12 (ch2 dead but at the
      // corners) + 16 of 64, block 2 5 * 4 of 32: 64/96.
      assert.deepEqual(onBlack.blocks, [2 / 4, 5 / 8]);
      assert.equal(onBlack.all, 7 / 12);
      assert.equal(onBlack.positions, 64 / 96);
      close(onBlack.meanProbability, 1 / (1 + Math.exp(-0.3)));
      // One white image anywhere in the set wakes ch2 and ch3 (cells: 16 of block 1, 20 of block 2).
      const onMixed = await deadUnits(d, lastWhite, { batchSize: 4, scale });
      assert.deepEqual(onMixed.blocks, [1 / 4, 5 / 8]);
      assert.equal(onMixed.all, 6 / 12);
      assert.equal(onMixed.positions, 36 / 96);
      assert.deepEqual(await deadUnits(d, lastWhite, { batchSize: 3, scale }), onMixed, 'without batch norm the batch size does not matter');
    });
  }

  test('a measurement leaves every weight of a batch-norm, spectral-norm discriminator as it was', async () => {
    const { config } = tinyExperiment({}, ['model.discriminator.spectralNorm=true']);
    const d = buildDiscriminator(config.model, 3, 2);
    assert.ok(d.nonTrainableWeights.length >= 6, 'moving statistics and u, v');
    const before = d.weights.map((w) => w.read().dataSync().slice());
    const rng = new Rng(5);
    const noise = images(12, 8, 8, 3, () => rng.next());
    const result = await deadUnits(d, noise, { batchSize: 4, scale });
    assert.equal(result.blocks.length, 2);
    for (const share of [...result.blocks, result.all, result.positions, result.meanProbability]) assert.ok(share >= 0 && share <= 1);
    d.weights.forEach((w, i) => assert.deepEqual(w.read().dataSync(), before[i], w.name));
    assert.deepEqual(await deadUnits(d, noise, { batchSize: 4, scale }), result, 'so the same call gives the same numbers');
  });

  test('computeMetrics names them per set and block', async () => {
    const d = handMadeDiscriminator('{kind: relu}');
    const real = images(20, 8, 8, 3, () => 0);
    const m = await computeMetrics({
      real,
      generated: lastWhite,
      seed: 1,
      sampleSize: 10,
      patchMetrics: false,
      discriminator: { model: d, batchSize: 4, scale },
    });
    assert.deepEqual(Object.keys(m).sort(), [
      'd_prob/discriminator/n10/generated',
      'd_prob/discriminator/n10/real',
      'dead_cells/discriminator/n10/generated/all',
      'dead_cells/discriminator/n10/real/all',
      'dead_units/discriminator/n10/generated/all',
      'dead_units/discriminator/n10/generated/block1',
      'dead_units/discriminator/n10/generated/block2',
      'dead_units/discriminator/n10/real/all',
      'dead_units/discriminator/n10/real/block1',
      'dead_units/discriminator/n10/real/block2',
    ]);
    assert.equal(m['dead_units/discriminator/n10/real/all'], 7 / 12);
    assert.equal(m['dead_units/discriminator/n10/generated/all'], 6 / 12);
    assert.equal(m['dead_cells/discriminator/n10/generated/all'], 36 / 96);
  });
});

describe("the class histogram's distance to the real one", () => {
  /** A stand-in classifier: the class of an image is floor(10 * its first pixel); features are its first two pixels. */
  const classifier = {
    name: 'stub',
    featureDim: 2,
    config: { classes: 10 },
    async predict(set: ImageSet) {
      const size = set.height * set.width * set.channels;
      return Int32Array.from({ length: set.count }, (_, n) => Math.min(9, Math.floor(10 * set.data[n * size]!)));
    },
    async features(set: ImageSet) {
      const size = set.height * set.width * set.channels;
      return Float32Array.from({ length: set.count * 2 }, (_, i) => set.data[Math.floor(i / 2) * size + (i % 2)]!);
    },
  } as unknown as Classifier;

  test('class_tv and class_max_gap against the reference sample, with the second real sample as the floor', async () => {
    // 40 real images, 4 of each class; 20 generated, all class 0 (mode collapse). The two real samples of 20 split
    // the 40, so the reference's histogram is 2 * (all real) - (the floor's), which the floor's class_hist gives.
    const rng = new Rng(9);
    const real = images(40, 4, 4, 1, (n, y, x) => (y + x === 0 ? (n % 10) / 10 + 0.05 : rng.next()));
    const generated = images(20, 4, 4, 1, (_, y, x) => (y + x === 0 ? 0.01 : rng.next()));
    const m = await computeMetrics({ real, generated, seed: 4, sampleSize: 20, patchMetrics: false, classifier, kid: { subsetSize: 10, subsets: 5 } });
    const floorHist = Array.from({ length: 10 }, (_, c) => m[`${BASELINE_PREFIX}class_hist/stub/n20/c${c}`]!);
    const reference = floorHist.map((share) => 2 * 0.1 - share);
    const generatedHist = Array.from({ length: 10 }, (_, c) => m[`class_hist/stub/n20/c${c}`]!);
    assert.deepEqual(generatedHist, [1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const tv = (h: number[]) => h.reduce((sum, share, c) => sum + Math.abs(share - reference[c]!), 0) / 2;
    const gap = (h: number[]) => Math.max(...h.map((share, c) => Math.abs(share - reference[c]!)));
    close(m['class_tv/stub/n20']!, 1 - reference[0]!, 1e-12);
    close(m['class_tv/stub/n20']!, tv(generatedHist), 1e-12);
    close(m['class_max_gap/stub/n20']!, gap(generatedHist), 1e-12);
    close(m[`${BASELINE_PREFIX}class_tv/stub/n20`]!, tv(floorHist), 1e-12);
    close(m[`${BASELINE_PREFIX}class_max_gap/stub/n20`]!, gap(floorHist), 1e-12);
    assert.ok(m['class_tv/stub/n20']! > 0.8 && m[`${BASELINE_PREFIX}class_tv/stub/n20`]! < 0.5);
  });
});

describe('train.eval background and deadUnits', () => {
  const silent: Progress = { startEpoch() {}, step() {}, endEpoch() {}, log() {} };

  test('are logged at every evaluation and leave training exactly as it was (spectral norm, batch norm)', async () => {
    const run = async (metrics: string) => {
      // Spectral norm in D with batch norm left on: a measurement that moved u, v or the moving statistics would show.
      const { config, file } = tinyExperiment({}, [
        ...STABLE.filter((o) => !o.startsWith('model.discriminator.batchNorm')),
        'train.epochs=2',
        `train.eval={every: 1, samples: 10, metrics: [${metrics}]}`,
      ]);
      const { runDir } = await train(config, { configFile: file, progress: silent });
      return readMetrics(runDir);
    };
    const plain = await run('background');
    const measured = await run('background, deadUnits');
    const losses = (records: typeof plain) => records.filter((r) => r.type !== 'eval').map((r) => ({ ...r, time: 0, imagesPerSec: 0, epochSeconds: 0 }));
    assert.deepEqual(losses(measured), losses(plain));
    const evals = measured.filter((r) => r.type === 'eval');
    assert.deepEqual(
      evals.map((r) => r.epoch),
      [1, 2],
    );
    for (const { values } of evals) {
      for (const name of [
        'background/frame2/n10',
        `${BASELINE_PREFIX}background/frame2/n10`,
        'dead_units/discriminator/n10/real/block1',
        'dead_units/discriminator/n10/generated/block2',
        'dead_units/discriminator/n10/generated/all',
        'dead_cells/discriminator/n10/real/all',
        'd_prob/discriminator/n10/real',
      ]) {
        assert.ok(values[name]! >= 0 && values[name]! <= 1, `${name} = ${values[name]} in ${Object.keys(values).join(', ')}`);
      }
    }
    // The other metrics are the same numbers with or without the dead units.
    const plainEvals = plain.filter((r) => r.type === 'eval');
    evals.forEach((e, i) => {
      for (const [name, value] of Object.entries(plainEvals[i]!.values)) assert.equal(e.values[name], value, name);
    });
  });
});
