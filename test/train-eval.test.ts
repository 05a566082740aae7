import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableBackends } from '../src/backend/select.ts';
import type { Progress } from '../src/train/progress.ts';
import { train } from '../src/train/trainer.ts';
import { readMetrics } from '../src/track/run-dir.ts';
import { fashionMnistForTests } from './support/fashion-mnist.ts';
import { tinyExperiment } from './support/tiny-config.ts';

const silent: Progress = { startEpoch() {}, step() {}, endEpoch() {}, log() {} };
// The quality metrics are heavy on the pure-JS backend; the fastest one installed is used.
const backend = (await availableBackends()).find((name) => name === 'tensorflow' || name === 'wasm') ?? 'cpu';

test('train.eval records patch metrics each epoch and keepBest keeps the best checkpoint', async () => {
  const { config, file } = tinyExperiment({}, [
    `train.backend=${backend}`,
    'train.epochs=3',
    'data.limit=40',
    'train.eval={every: 1, samples: 20, metrics: [patches]}',
    'train.checkpoint.keepBest=swd',
  ]);
  const { runDir, summary } = await train(config, { configFile: file, progress: silent });
  const evals = readMetrics(runDir).filter((m) => m.type === 'eval');
  assert.deepEqual(
    evals.map((m) => m.epoch),
    [1, 2, 3],
  );
  const swd = evals.map((m) => m.values['swd/patch7/n20/avg']);
  for (const m of evals) {
    assert.ok(Number.isFinite(m.values['real_vs_real/swd/patch7/n20/avg']), 'the real-vs-real baseline is there');
    assert.ok(m.values['precision/patch7/n20/k3/avg'] >= 0 && m.values['precision/patch7/n20/k3/avg'] <= 1);
  }
  const bestValue = Math.min(...swd);
  const bestEpoch = swd.indexOf(bestValue) + 1;
  assert.deepEqual(summary.best, { metric: 'swd/patch7/n20/avg', value: bestValue, epoch: bestEpoch });
  assert.deepEqual(JSON.parse(readFileSync(join(runDir, 'checkpoints', 'best.json'), 'utf8')), summary.best);
  assert.deepEqual(JSON.parse(readFileSync(join(runDir, 'checkpoints', 'best', 'state.json'), 'utf8')).epoch, bestEpoch);
  assert.equal(JSON.parse(readFileSync(join(runDir, 'checkpoints', 'latest.json'), 'utf8')).checkpoint, 'epoch-0003', 'latest stays the last epoch');
});

test('Fashion-MNIST runs measure FD, KID and the share of the intended class with the trained classifier', async () => {
  // The named source, from the data cache (the full dataset, or the committed subset in a cache of its own).
  Object.assign(process.env, (await fashionMnistForTests()).env);
  const { config, file } = tinyExperiment(
    {
      name: 'tiny-fmnist',
      data: {
        source: { kind: 'fashionMnist', classes: [7] },
        transforms: [{ kind: 'normalize', mean: [0.5], std: [0.5] }],
        batchSize: 32,
        limit: 64,
      },
      model: { latentDim: 8, imageSize: 28, generator: { blocks: 2, baseChannels: 4 }, discriminator: { blocks: 2, baseChannels: 4 } },
    },
    [`train.backend=${backend}`, 'train.epochs=1', 'train.eval={samples: 30, metrics: [classifier]}', 'train.checkpoint.keepBest=classShare'],
  );
  // The project's cache: the classifier trained by test/eval-classifier.test.ts (or trained here once).
  const { runDir, summary } = await train(config, { configFile: file, progress: silent });
  const [evaluation] = readMetrics(runDir).filter((m) => m.type === 'eval');
  const names = Object.keys(evaluation.values);
  for (const name of ['fd/fmnist-cnn/n30', 'kid/fmnist-cnn/n30', 'class_share/fmnist-cnn/n30', 'real_vs_real/fd/fmnist-cnn/n30']) {
    assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
  }
  assert.ok(!names.some((name) => name.includes('patch7')), 'patch metrics only when asked for');
  const histogram = names.filter((name) => name.startsWith('class_hist/')).reduce((sum, name) => sum + evaluation.values[name], 0);
  assert.ok(Math.abs(histogram - 1) < 1e-9, `the class histogram sums to 1 (${histogram})`);
  // Real sneakers are mostly classified as sneakers: the ceiling an untrained generator is far below.
  assert.ok(evaluation.values['real_vs_real/class_share/fmnist-cnn/n30'] > 0.8);
  assert.equal(summary.best?.metric, 'class_share/fmnist-cnn/n30');
  assert.ok(existsSync(join(runDir, 'checkpoints', 'best', 'generator', 'model.json')));
});
