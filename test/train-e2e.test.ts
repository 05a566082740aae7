import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { parse } from 'yaml';
import { availableBackends } from '../src/backend/select.ts';
import { deriveSeed, Rng } from '../src/random/rng.ts';
import { imageGridPng, pixelScale } from '../src/render/grid.ts';
import { loadLayersModel } from '../src/model/io.ts';
import { latestCheckpoint, loadSamplingGenerator } from '../src/track/run-checkpoints.ts';
import type { Progress } from '../src/train/progress.ts';
import { train } from '../src/train/trainer.ts';
import { readLossRecords } from '../src/track/run-dir.ts';
import type { RunSummary } from '../src/track/run-types.ts';
import { STABLE, tinyExperiment } from './support/tiny-config.ts';

const silent: Progress = { startEpoch() {}, step() {}, endEpoch() {}, log() {} };
const backends = await availableBackends();

for (const backend of backends) {
  test(`trains end to end on the ${backend} backend and leaves a complete run directory`, async () => {
    const { config, file } = tinyExperiment({}, [`train.backend=${backend}`]);
    const { runDir, summary } = await train(config, { configFile: file, progress: silent });

    assert.equal(summary.status, 'finished');
    assert.equal(summary.backend, backend);
    const written = JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as RunSummary;
    assert.deepEqual(written, summary);
    assert.equal(written.epochsDone, 2);
    assert.equal(written.steps, 6); // 20 images in batches of 8: 8, 8, 4 per epoch

    assert.deepEqual(parse(readFileSync(join(runDir, 'config.yaml'), 'utf8')), config);

    const metrics = readLossRecords(runDir);
    const steps = metrics.filter((m) => m.type === 'step');
    const epochs = metrics.filter((m) => m.type === 'epoch');
    assert.deepEqual(
      steps.map((m) => m.step),
      [1, 2, 3, 4, 5, 6],
    );
    assert.deepEqual(
      epochs.map((m) => m.epoch),
      [1, 2],
    );
    for (const m of metrics) {
      for (const key of ['lossD', 'lossG', 'dReal', 'dFake', 'imagesPerSec'] as const) assert.ok(Number.isFinite(m[key]), `${key} of ${JSON.stringify(m)}`);
      assert.ok(m.dReal > 0 && m.dReal < 1 && m.dFake > 0 && m.dFake < 1);
    }
    const epochOne = steps.filter((m) => m.epoch === 1);
    assert.ok(Math.abs(epochs[0].lossD - epochOne.reduce((s, m) => s + m.lossD, 0) / epochOne.length) < 1e-6, 'epoch loss is the mean of its steps');
    assert.deepEqual(summary.finalLosses, { lossD: epochs[1].lossD, lossG: epochs[1].lossG });

    // 6 samples in rows of at most 7: one row of 6 tiles of 8x8 with 2px gaps.
    assert.deepEqual(readdirSync(join(runDir, 'samples')).sort(), ['epoch-0001.png', 'epoch-0002.png']);
    const grid = await sharp(join(runDir, 'samples', 'epoch-0002.png')).metadata();
    assert.deepEqual([grid.format, grid.width, grid.height, grid.channels], ['png', 6 * 8 + 7 * 2, 8 + 2 * 2, 3]);
    const plot = await sharp(join(runDir, 'losses.png')).metadata();
    assert.deepEqual([plot.format, plot.width, plot.height], ['png', 700, 400]);

    const checkpoint = latestCheckpoint(runDir);
    assert.ok(checkpoint.endsWith('epoch-0002'));
    const { epoch, step, stepInEpoch } = JSON.parse(readFileSync(join(checkpoint, 'state.json'), 'utf8'));
    assert.deepEqual({ epoch, step, stepInEpoch }, { epoch: 2, step: 6, stepInEpoch: 3 });
    for (const name of ['optimizer-generator', 'optimizer-discriminator']) {
      assert.ok(existsSync(join(checkpoint, `${name}.bin`)) && existsSync(join(checkpoint, `${name}.json`)));
    }
    const generator = await loadLayersModel(join(checkpoint, 'generator'));
    const discriminator = await loadLayersModel(join(checkpoint, 'discriminator'));
    const images = generator.predict(tf.zeros([2, 8])) as tf.Tensor;
    assert.deepEqual(images.shape, [2, 8, 8, 3]);
    assert.deepEqual((discriminator.predict(images) as tf.Tensor).shape, [2, 1]);
    assert.ok(!readdirSync(join(runDir, 'checkpoints')).some((name) => name.includes('.tmp')), 'no temporary folders left');
  });

  test(`two runs of one config give the same losses on the ${backend} backend`, async () => {
    const losses = [];
    for (let i = 0; i < 2; i++) {
      const { config, file } = tinyExperiment({}, [`train.backend=${backend}`, 'train.epochs=1']);
      const { runDir } = await train(config, { configFile: file, progress: silent });
      losses.push(readLossRecords(runDir).map((m) => [m.lossD, m.lossG]));
    }
    assert.deepEqual(losses[0], losses[1]);
    const { config, file } = tinyExperiment({ seed: 8 }, [`train.backend=${backend}`, 'train.epochs=1']);
    const { runDir } = await train(config, { configFile: file, progress: silent });
    assert.notDeepEqual(
      readLossRecords(runDir).map((m) => [m.lossD, m.lossG]),
      losses[0],
      'another seed gives other losses',
    );
  });

  test(`the number of live tensors does not grow from step to step on the ${backend} backend`, async () => {
    const { config, file } = tinyExperiment({}, [`train.backend=${backend}`, 'train.epochs=3', 'train.logEvery=1']);
    const counts: number[] = [];
    const counting: Progress = { ...silent, step: () => counts.push(tf.memory().numTensors) };
    await train(config, { configFile: file, progress: counting });
    assert.equal(counts.length, 9);
    assert.deepEqual(new Set(counts.slice(1)).size, 1, `live tensors per step: ${counts.join(', ')}`);
  });

  test(`a stop request ends the run after the step, with a checkpoint, on the ${backend} backend`, async () => {
    const { config, file } = tinyExperiment({}, [`train.backend=${backend}`, 'train.epochs=5', 'train.checkpoint.every=5']);
    let steps = 0;
    const { runDir, summary } = await train(config, {
      configFile: file,
      progress: { ...silent, step: () => (steps += 1) },
      shouldStop: () => steps >= 4,
    });
    assert.equal(summary.status, 'stopped');
    assert.equal(summary.steps, 4);
    const checkpoint = latestCheckpoint(runDir);
    assert.ok(checkpoint.endsWith('epoch-0002-step-00000004'), checkpoint);
    const { epoch, step, stepInEpoch } = JSON.parse(readFileSync(join(checkpoint, 'state.json'), 'utf8'));
    assert.deepEqual({ epoch, step, stepInEpoch }, { epoch: 2, step: 4, stepInEpoch: 1 });
  });
}

for (const backend of backends.filter((name) => name !== 'cpu')) {
  test(`the ${backend} backend trains to the cpu backend's losses`, async () => {
    const losses: Record<string, number[][]> = {};
    for (const name of [backend, 'cpu']) {
      const { config, file } = tinyExperiment({}, [`train.backend=${name}`, 'train.epochs=1']);
      const { runDir } = await train(config, { configFile: file, progress: silent });
      losses[name] = readLossRecords(runDir).map((m) => [m.lossD, m.lossG, m.dReal, m.dFake]);
    }
    const worst = Math.max(
      ...losses[backend].flatMap((row, i) => row.map((v, j) => Math.abs(v - losses.cpu[i][j]) / Math.max(Math.abs(losses.cpu[i][j]), 1e-6))),
    );
    assert.ok(worst < 1e-4, `worst relative difference ${worst}`);
  });
}

for (const backend of backends.filter((name) => name !== 'webgpu')) {
  test(`every stable-GAN option together trains on ${backend}; the weight average draws the grids and is checkpointed for sample and eval`, async () => {
    const { config, file } = tinyExperiment({}, [`train.backend=${backend}`, ...STABLE]);
    const { runDir, summary } = await train(config, { configFile: file, progress: silent });
    assert.equal(summary.status, 'finished');
    assert.ok(Number.isFinite(summary.finalLosses!.lossD) && Number.isFinite(summary.finalLosses!.lossG));

    const checkpoint = latestCheckpoint(runDir);
    const live = await loadLayersModel(join(checkpoint, 'generator'));
    const averaged = await loadLayersModel(join(checkpoint, 'generator-ema'));
    const sampling = await loadSamplingGenerator(checkpoint);
    const values = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));
    assert.deepEqual(values(sampling), values(averaged), 'sample and eval load the weight average');
    assert.notDeepEqual(values(averaged), values(live), 'beta 0.5 over 6 steps leaves the average apart from the live weights');
    assert.ok(values(live)[0]!.length > 0);

    // The last grid is the average's images of the fixed sample noise.
    const { count } = config.train.samples;
    const noise = tf.tensor2d(new Rng(deriveSeed(config.seed, 'samples')).normals(count * config.model.latentDim), [count, config.model.latentDim]);
    const images = averaged.predict(noise) as tf.Tensor4D;
    const expected = await imageGridPng(
      (await images.data()) as Float32Array,
      { count, height: 8, width: 8, channels: 3 },
      pixelScale(config, 3),
      Math.min(7, count),
    );
    const decode = async (png: Uint8Array | string) => (await sharp(png).raw().toBuffer()).toString('hex');
    assert.equal(await decode(join(runDir, 'samples', 'epoch-0002.png')), await decode(expected));
    tf.dispose([noise, images]);
  });
}

test('train.maxSteps ends the run at that step as if it were the last epoch: its line, grid and a checkpoint of the step', async () => {
  // 20 images in batches of 8: 3 steps an epoch; 2 epochs asked for, 2 steps allowed.
  const { config, file } = tinyExperiment({}, ['train.maxSteps=2']);
  const lines: string[] = [];
  const { runDir, summary } = await train(config, { configFile: file, progress: { ...silent, endEpoch: (line) => lines.push(line) } });
  assert.equal(summary.status, 'finished');
  assert.deepEqual([summary.steps, summary.epochsDone, summary.position], [2, 0, { epoch: 1, stepInEpoch: 2, stepsPerEpoch: 3 }]);
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^epoch 1\/2: loss D [\d.]+, loss G [\d.]+, [\d.]+ images\/s, [\d.]+ s \(train\.maxSteps: 2\/3 steps\)$/);
  const records = readLossRecords(runDir);
  assert.deepEqual(
    records.map((r) => [r.type, r.step]),
    [
      ['step', 1],
      ['step', 2],
      ['epoch', 1],
    ],
  );
  assert.ok(existsSync(join(runDir, 'samples', 'epoch-0001.png')));
  assert.equal(latestCheckpoint(runDir), join(runDir, 'checkpoints', 'epoch-0001-step-00000002'));
});

test("train.report writes the run's HTML report at its end, and says where", async () => {
  const { config, file } = tinyExperiment({}, ['train.report=true', 'train.epochs=1']);
  const lines: string[] = [];
  const { runDir } = await train(config, { configFile: file, progress: { ...silent, log: (line) => lines.push(line) } });
  const index = join(runDir, 'report', 'index.html');
  assert.ok(existsSync(index));
  assert.ok(existsSync(join(runDir, 'report', 'samples', 'epoch-0001.png')), 'the grid is in the report');
  assert.match(lines.at(-1)!, new RegExp(`^report: ${index.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\([\\d.]+ s\\)$`));
});
