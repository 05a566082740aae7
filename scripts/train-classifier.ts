// Trains (or loads from .cache/classifiers) the Fashion-MNIST CNN of the quality metrics and reports its
// t10k accuracy and training time.
// Files: the named Fashion-MNIST dataset (fetched into the data cache when needed), or --data DIR holding
// train-*/t10k-* IDX files.
//   node --import tsx scripts/train-classifier.ts [--backend auto|tensorflow|wasm|cpu] [--data DIR]
//        [--cache-dir DIR] [--epochs N] [--batch-size N] [--seed N]
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { type BackendChoice, useBackend } from '../src/backend/select.ts';
import { classifierSplits } from '../src/data/resolve-source.ts';
import { FMNIST_CNN, loadOrTrainClassifier } from '../src/eval/classifier.ts';
import { readIdx } from '../src/data/idx.ts';

const root = resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'auto' },
    data: { type: 'string' },
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
const log = (line: string) => console.log(line);
const source = values.data
  ? { kind: 'idx' as const, images: resolve(values.data, 'train-images-idx3-ubyte.gz'), labels: resolve(values.data, 'train-labels-idx1-ubyte.gz') }
  : { kind: 'fashionMnist' as const, split: 'train' as const };
const files = await classifierSplits(source, { log });
if (!files.test) throw new Error(`no t10k files beside ${source.kind === 'idx' ? source.images : ''}`);
const classifier = await loadOrTrainClassifier({ ...files, cacheDir: values['cache-dir'], config, log });
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
