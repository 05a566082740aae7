// A small CNN classifier for Fashion-MNIST, trained here because no pretrained weights may be downloaded.
// Its penultimate layer (dense, 128 units) is the feature extractor of the classifier-based metrics
// (Frechet distance, KID, precision/recall); its argmax the class of a generated image (class share,
// class histogram). Training is seeded (initialisation and shuffling); the trained model is cached under
// <cacheDir>/<sha256 of the config and the training files' MD5 sums>/ in the TF.js
// LayersModel format (model.json + weights.bin) and reused while neither changes.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { cacheKey } from '../data/cache.ts';
import { md5OfFile } from '../datasets/checksums.ts';
import { readIdx } from '../data/idx.ts';
import { deriveSeed, Rng } from '../random/rng.ts';
import { loadLayersModel, saveLayersModel } from '../model/io.ts';
import { writeDirAtomic } from '../io/atomic.ts';
import type { ImageSet } from './images.ts';

export interface ClassifierConfig {
  /** Names the metrics computed on its features, e.g. fd/fmnist-cnn/n1000. */
  name: string;
  /** Input height and width; other image sizes are resized (bilinear) to it, RGB is converted to gray. */
  inputSize: number;
  /** Filters of the 3x3 'same' ReLU convolutions, each halving the size: with stride 2, or a 2x2 max pool after it. */
  conv: number[];
  downsample: 'stride' | 'pool';
  /** Units of the dense ReLU layer before the logits: the feature vector. */
  dense: number;
  classes: number;
  epochs: number;
  batchSize: number;
  /** Adam's learning rate at the first step; it falls linearly to learningRateEnd at the last. */
  learningRate: number;
  learningRateEnd: number;
  seed: number;
}

/** conv 32 -> pool -> conv 64 -> pool -> dense 128 -> 10 logits; 3 epochs of Adam. */
export const FMNIST_CNN: ClassifierConfig = {
  name: 'fmnist-cnn',
  inputSize: 28,
  conv: [32, 64],
  downsample: 'stride',
  dense: 128,
  classes: 10,
  epochs: 3,
  batchSize: 64,
  learningRate: 2e-3,
  learningRateEnd: 1e-4,
  seed: 0,
};

/** Bump when the training code changes what a config trains, so old cache entries are not reused. */
const CLASSIFIER_VERSION = 1;
const FEATURE_LAYER = 'features';
const INFERENCE_BATCH = 500;

export interface IdxFiles {
  images: string;
  labels: string;
}

export interface ClassifierInfo {
  config: ClassifierConfig;
  key: string;
  /** Where the model lives: <cacheDir>/<key>. */
  dir: string;
  trainedWith: { backend: string; seconds: number; trainImages: number; finalLoss: number; createdAt: string };
  /** Accuracy on the test files given when it was trained (t10k), when given. */
  testAccuracy?: number;
  /** Whether this call loaded it from the cache (false: trained now). */
  fromCache: boolean;
}

export interface LoadClassifierOptions {
  /** The training split. */
  train: IdxFiles;
  /** A held-out split to measure (and record) accuracy on after training. */
  test?: IdxFiles;
  /** The root of the cache, e.g. <project>/.cache/classifiers. */
  cacheDir: string;
  config?: ClassifierConfig;
  log?: (line: string) => void;
}

export class Classifier {
  readonly config: ClassifierConfig;
  readonly info: ClassifierInfo;
  private readonly model: tf.LayersModel;
  private readonly featureModel: tf.LayersModel;

  constructor(model: tf.LayersModel, info: ClassifierInfo) {
    this.model = model;
    this.config = info.config;
    this.info = info;
    this.featureModel = tf.model({ inputs: model.inputs, outputs: model.getLayer(FEATURE_LAYER).output as tf.SymbolicTensor });
  }

  get name(): string {
    return this.config.name;
  }

  /** Length of a feature vector. */
  get featureDim(): number {
    return this.config.dense;
  }

  /** The penultimate layer's activations: count*featureDim floats, one row per image. */
  async features(images: ImageSet): Promise<Float32Array> {
    return this.run(images, this.featureModel, this.featureDim, (out) => out);
  }

  /** The most likely class of each image. */
  async predict(images: ImageSet): Promise<Int32Array> {
    const ids = await this.run(images, this.model, 1, (logits) => tf.argMax(logits, 1).toFloat().reshape([-1, 1]));
    return Int32Array.from(ids);
  }

  /** Share of `images` whose predicted class is their label. */
  async accuracy(images: ImageSet, labels: ArrayLike<number>): Promise<number> {
    const predicted = await this.predict(images);
    let right = 0;
    for (let i = 0; i < predicted.length; i++) if (predicted[i] === labels[i]) right++;
    return right / predicted.length;
  }

  dispose(): void {
    this.model.dispose();
  }

  private async run(images: ImageSet, model: tf.LayersModel, width: number, finish: (out: tf.Tensor2D) => tf.Tensor2D): Promise<Float32Array> {
    const out = new Float32Array(images.count * width);
    const size = images.height * images.width * images.channels;
    for (let start = 0; start < images.count; start += INFERENCE_BATCH) {
      const count = Math.min(INFERENCE_BATCH, images.count - start);
      const batch = tf.tidy(() => {
        const x = tf.tensor4d(images.data.subarray(start * size, (start + count) * size), [count, images.height, images.width, images.channels]);
        return finish(model.predict(this.toInput(x)) as tf.Tensor2D);
      });
      out.set(await batch.data(), start * width);
      batch.dispose();
    }
    return out;
  }

  /** Gray, inputSize x inputSize. */
  private toInput(x: tf.Tensor4D): tf.Tensor4D {
    let input = x;
    if (input.shape[3] === 3) input = tf.sum(tf.mul(input, tf.tensor1d([0.299, 0.587, 0.114])), 3, true);
    const size = this.config.inputSize;
    if (input.shape[1] !== size || input.shape[2] !== size) input = tf.image.resizeBilinear(input, [size, size]);
    return input;
  }
}

/**
 * The cache key: a sha256 of the config and the MD5 sums of the training files (for a named dataset, the sums
 * it was verified against), so the same data anywhere reuses the model and changed data retrains it.
 */
export async function classifierCacheKey(config: ClassifierConfig, train: IdxFiles): Promise<string> {
  const files = await Promise.all([train.images, train.labels].map(md5OfFile));
  return cacheKey({ kind: 'classifier', classifierVersion: CLASSIFIER_VERSION, config, files });
}

/** The classifier cached for this config and training data, or a freshly trained (and then cached) one. Uses the active backend. */
export async function loadOrTrainClassifier(opts: LoadClassifierOptions): Promise<Classifier> {
  const config = opts.config ?? FMNIST_CNN;
  const log = opts.log ?? (() => {});
  const key = await classifierCacheKey(config, opts.train);
  const dir = join(opts.cacheDir, key);
  if (existsSync(join(dir, 'info.json'))) {
    const info = { ...(JSON.parse(readFileSync(join(dir, 'info.json'), 'utf8')) as ClassifierInfo), dir, fromCache: true };
    log(`classifier ${config.name}: from the cache (${dir})`);
    return new Classifier(await loadLayersModel(dir), info);
  }

  const train = await readIdx({ kind: 'idx', ...opts.train });
  log(`classifier ${config.name}: training on ${train.count} images for ${config.epochs} epochs on the ${tf.getBackend()} backend`);
  const started = performance.now();
  const model = buildClassifier(config, train.height, train.width);
  const finalLoss = await fit(model, config, train.pixels, train.labels!, train.count, train.height * train.width, log);
  const seconds = (performance.now() - started) / 1000;
  const info: ClassifierInfo = {
    config,
    key,
    dir,
    trainedWith: { backend: tf.getBackend(), seconds, trainImages: train.count, finalLoss, createdAt: new Date().toISOString() },
    fromCache: false,
  };
  const classifier = new Classifier(model, info);
  if (opts.test) {
    const test = await readIdx({ kind: 'idx', ...opts.test });
    info.testAccuracy = await classifier.accuracy(
      { count: test.count, height: test.height, width: test.width, channels: 1, data: Float32Array.from(test.pixels, (v) => v / 255) },
      test.labels!,
    );
  }
  const accuracy = info.testAccuracy === undefined ? '' : `, test accuracy ${(100 * info.testAccuracy).toFixed(2)}%`;
  log(`classifier ${config.name}: trained in ${seconds.toFixed(1)} s${accuracy}`);
  await writeDirAtomic(dir, async (temporary) => {
    await saveLayersModel(model, temporary);
    const { fromCache: _, dir: __, ...stored } = info;
    writeFileSync(join(temporary, 'info.json'), `${JSON.stringify(stored, null, 2)}\n`);
  });
  return classifier;
}

function buildClassifier(config: ClassifierConfig, height: number, width: number): tf.LayersModel {
  if (height !== config.inputSize || width !== config.inputSize) {
    throw new Error(`classifier ${config.name} takes ${config.inputSize}x${config.inputSize} images; the training images are ${height}x${width}`);
  }
  const init = (name: string) => tf.initializers.glorotUniform({ seed: deriveSeed(config.seed, `classifier/init/${name}`) });
  const input = tf.input({ shape: [config.inputSize, config.inputSize, 1], name: 'images' });
  let x = input;
  config.conv.forEach((filters, i) => {
    const name = `conv${i + 1}`;
    const strides = config.downsample === 'stride' ? 2 : 1;
    x = tf.layers
      .conv2d({ filters, kernelSize: 3, strides, padding: 'same', activation: 'relu', kernelInitializer: init(name), name })
      .apply(x) as tf.SymbolicTensor;
    if (config.downsample === 'pool') x = tf.layers.maxPooling2d({ poolSize: 2, name: `pool${i + 1}` }).apply(x) as tf.SymbolicTensor;
  });
  x = tf.layers.flatten({ name: 'flatten' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.dense({ units: config.dense, activation: 'relu', kernelInitializer: init(FEATURE_LAYER), name: FEATURE_LAYER }).apply(x) as tf.SymbolicTensor;
  const logits = tf.layers.dense({ units: config.classes, kernelInitializer: init('logits'), name: 'logits' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: config.name });
}

/** Adam on softmax cross-entropy, batches in the order of a seeded permutation per epoch; returns the last epoch's mean loss. */
async function fit(
  model: tf.LayersModel,
  config: ClassifierConfig,
  pixels: Uint8Array,
  labels: Uint8Array,
  count: number,
  size: number,
  log: (line: string) => void,
): Promise<number> {
  const optimizer = tf.train.adam(config.learningRate);
  // tf.train.adam reads its learningRate field at every step: the schedule sets it.
  const schedule = optimizer as unknown as { learningRate: number };
  const steps = config.epochs * Math.ceil(count / config.batchSize);
  let step = 0;
  const side = config.inputSize;
  let epochLoss = NaN;
  for (let epoch = 0; epoch < config.epochs; epoch++) {
    const order = new Rng(deriveSeed(config.seed, `classifier/shuffle/${epoch}`)).permutation(count);
    const started = performance.now();
    const losses: tf.Scalar[] = [];
    for (let start = 0; start < count; start += config.batchSize) {
      const n = Math.min(config.batchSize, count - start);
      const x = new Float32Array(n * size);
      const y = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const source = order[start + i];
        for (let k = 0, base = source * size, out = i * size; k < size; k++) x[out + k] = pixels[base + k] / 255;
        y[i] = labels[source];
      }
      schedule.learningRate = config.learningRate + ((config.learningRateEnd - config.learningRate) * step++) / Math.max(1, steps - 1);
      const loss = tf.tidy(() => {
        const images = tf.tensor4d(x, [n, side, side, 1]);
        const targets = tf.oneHot(tf.tensor1d(y, 'int32'), config.classes);
        return optimizer.minimize(() => tf.losses.softmaxCrossEntropy(targets, model.apply(images, { training: true }) as tf.Tensor), true)!;
      });
      losses.push(tf.mul(loss, n));
      loss.dispose();
    }
    const total = tf.tidy(() => tf.addN(losses));
    epochLoss = (await total.data())[0] / count;
    tf.dispose([...losses, total]);
    log(`classifier ${config.name}: epoch ${epoch + 1}/${config.epochs}, loss ${epochLoss.toFixed(4)}, ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  optimizer.dispose();
  return epochLoss;
}
