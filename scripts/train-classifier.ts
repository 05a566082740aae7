// Trains (or loads from .cache/classifiers) the Fashion-MNIST CNN of the quality metrics and reports its
// t10k accuracy and training time.
//   node --import tsx scripts/train-classifier.ts [--backend auto|tensorflow|wasm|cpu] [--data DIR]
//        [--cache-dir DIR] [--epochs N] [--batch-size N] [--seed N]
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { type BackendChoice, useBackend } from '../src/backend/select.ts';
import { FMNIST_CNN, loadOrTrainClassifier, mnistStyleFiles } from '../src/eval/classifier.ts';
import { readIdx } from '../src/data/idx.ts';

const root = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'auto' },
    data: { type: 'string', default: resolve(root, '../shared/data/fashion-mnist') },
    'cache-dir': { type: 'string', default: resolve(root, '.cache/classifiers') },
    epochs: { type: 'string' },
    'batch-size': { type: 'string' },
    seed: { type: 'string' },
    downsample: { type: 'string' },
    conv: { type: 'string' },
    lr: { type: 'string' },
    'lr-end': { type: 'string' },
  },
});

const backend = await useBackend(values.backend as BackendChoice);
const config = {
  ...FMNIST_CNN,
  ...(values.epochs ? { epochs: Number(values.epochs) } : {}),
  ...(values['batch-size'] ? { batchSize: Number(values['batch-size']) } : {}),
  ...(values.seed ? { seed: Number(values.seed) } : {}),
  ...(values.downsample ? { downsample: values.downsample as 'stride' | 'pool' } : {}),
  ...(values.lr ? { learningRate: Number(values.lr) } : {}),
  ...(values['lr-end'] ? { learningRateEnd: Number(values['lr-end']) } : {}),
  ...(values.conv ? { conv: values.conv.split(',').map(Number) } : {}),
};
const files = mnistStyleFiles(values.data);
const classifier = await loadOrTrainClassifier({ ...files, cacheDir: values['cache-dir'], config, log: (line) => console.log(line) });
const test = await readIdx({ kind: 'idx', ...files.test });
const started = performance.now();
const accuracy = await classifier.accuracy(
  { count: test.count, height: test.height, width: test.width, channels: 1, data: Float32Array.from(test.pixels, (v) => v / 255) },
  test.labels!,
);
const seconds = (performance.now() - started) / 1000;
const info = classifier.info;
console.log(
  JSON.stringify(
    {
      backend,
      tfBackend: tf.getBackend(),
      dir: info.dir,
      fromCache: info.fromCache,
      trainedWith: info.trainedWith,
      testAccuracy: accuracy,
      inferenceSeconds: seconds,
    },
    null,
    2,
  ),
);
classifier.dispose();
