import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { Data, IdxSource, Transform } from '../src/config/experiment.generated.ts';
import { loadDataset } from '../src/data/dataset.ts';
import { UserError } from '../src/errors.ts';
import { FASHION_SUBSET } from './support/fashion-mnist.ts';

// The committed subset: real Fashion-MNIST files, 3,000 train and 2,000 t10k records.
const fashion = FASHION_SUBSET;
const trainImages = path.join(fashion, 'train-images-idx3-ubyte.gz');
const trainLabels = path.join(fashion, 'train-labels-idx1-ubyte.gz');
const testLabels = path.join(fashion, 't10k-labels-idx1-ubyte.gz');

function config(source: Omit<IdxSource, 'kind'>, transforms: Transform[] = [], extra: Partial<Data> = {}): Data {
  return { source: { kind: 'idx', ...source }, transforms, batchSize: 256, shuffle: true, onBadImage: 'error', cache: false, ...extra };
}

function rejectsWith(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  return assert.rejects(promise, (error: Error) => {
    assert.ok(error instanceof UserError, `${error.name}: ${error.message}`);
    assert.match(error.message, pattern);
    return true;
  });
}

/** A raw IDX file: big-endian uint32 header words, then bytes. */
function idx(words: number[], body: Uint8Array): Buffer {
  const header = Buffer.alloc(words.length * 4);
  words.forEach((word, i) => header.writeUInt32BE(word, i * 4));
  return Buffer.concat([header, body]);
}

describe('IDX sources (Fashion-MNIST, the committed subset)', () => {
  let tmp: string;
  const rawLabels = gunzipSync(readFileSync(trainLabels));
  const rawImages = gunzipSync(readFileSync(trainImages));
  const load = (data: Data) => loadDataset(data, { cacheDir: path.join(tmp, 'cache') });

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'data-idx-'));
  });
  after(() => rm(tmp, { recursive: true, force: true }));

  test('3,000 train images of 28x28x1 with their labels', async () => {
    const dataset = await load(config({ images: trainImages, labels: trainLabels }));
    assert.deepEqual([dataset.count, dataset.height, dataset.width, dataset.channels], [3000, 28, 28, 1]);
    assert.equal(dataset.pixels.length, 3000 * 28 * 28);
    assert.deepEqual(Buffer.from(dataset.pixels), rawImages.subarray(16));
    assert.deepEqual(Buffer.from(dataset.labels!), rawLabels.subarray(8));
    assert.equal(dataset.description, `3000 images from ${trainImages} (idx), 28x28x1`);
  });

  test('classes [7] keeps exactly the label-7 images, in file order', async () => {
    const sevens: number[] = [];
    for (let i = 8; i < rawLabels.length; i++) if (rawLabels[i] === 7) sevens.push(i - 8);
    assert.ok(sevens.length > 250);
    const dataset = await load(config({ images: trainImages, labels: trainLabels, classes: [7] }));
    assert.equal(dataset.count, sevens.length);
    assert.ok(dataset.labels!.every((label) => label === 7));
    const size = 28 * 28;
    for (const at of [0, 1, sevens.length - 1]) {
      const from = 16 + sevens[at] * size;
      assert.deepEqual(Buffer.from(dataset.pixels.subarray(at * size, (at + 1) * size)), rawImages.subarray(from, from + size));
    }
    const limited = await load(config({ images: trainImages, labels: trainLabels, classes: [7, 9] }, [], { limit: 10 }));
    assert.equal(limited.count, 10);
    assert.ok(limited.labels!.every((label) => label === 7 || label === 9));
  });

  test("raw (not gzip'd) files read the same as the .gz ones", async () => {
    const images = path.join(tmp, 'train-images-idx3-ubyte');
    const labels = path.join(tmp, 'train-labels-idx1-ubyte');
    await writeFile(images, rawImages);
    await writeFile(labels, rawLabels);
    const raw = await load(config({ images, labels }, [], { limit: 500 }));
    const gz = await load(config({ images: trainImages, labels: trainLabels }, [], { limit: 500 }));
    assert.equal(raw.count, 500);
    assert.deepEqual(raw.pixels, gz.pixels);
    assert.deepEqual(raw.labels, gz.labels);
  });

  test('cached transforms apply to IDX images too (resize to 32, flatten to RGB)', async () => {
    const dataset = await load(
      config(
        { images: trainImages },
        [
          { kind: 'resize', size: [32, 32], fit: 'fill', background: '#ffffff' },
          { kind: 'flatten', background: '#ffffff' },
        ],
        {
          limit: 20,
        },
      ),
    );
    assert.deepEqual([dataset.count, dataset.height, dataset.width, dataset.channels], [20, 32, 32, 3]);
    assert.equal(dataset.labels, undefined);
    const at = (16 * 32 + 16) * 3;
    assert.equal(dataset.pixels[at], dataset.pixels[at + 1]);
    assert.equal(dataset.pixels[at], dataset.pixels[at + 2]);
  });

  test('wrong magic: a label file given as images', async () => {
    await rejectsWith(
      load(config({ images: trainLabels })),
      /^data\.source\.images: .*train-labels-idx1-ubyte\.gz does not start with the IDX magic number 2051 but with 2049 \(2049 is the magic of an IDX label file: are images and labels swapped\?\)$/,
    );
    const junk = path.join(tmp, 'junk.idx');
    await writeFile(junk, Buffer.from('this is not an idx file at all'));
    await rejectsWith(load(config({ images: junk })), /junk\.idx does not start with the IDX magic number 2051/);
  });

  test('truncated image and label files', async () => {
    const images = path.join(tmp, 'short-images');
    await writeFile(images, rawImages.subarray(0, 16 + 28 * 28 * 10 + 5));
    await rejectsWith(load(config({ images })), /short-images is truncated: its header promises 3000 images of 28x28 \(2352016 bytes\) but it has 7861 bytes/);
    const labels = path.join(tmp, 'short-labels');
    await writeFile(labels, rawLabels.subarray(0, 100));
    await rejectsWith(load(config({ images: trainImages, labels })), /short-labels is truncated: its header promises 3000 labels/);
    const header = path.join(tmp, 'header-only');
    await writeFile(header, rawImages.subarray(0, 10));
    await rejectsWith(load(config({ images: header })), /header-only is truncated: it has 10 bytes, less than its 16-byte header/);
    const gz = path.join(tmp, 'cut.gz');
    const whole = readFileSync(trainLabels);
    await writeFile(gz, whole.subarray(0, whole.length >> 1));
    await rejectsWith(load(config({ images: trainImages, labels: gz })), /^data\.source\.labels: .*cut\.gz is a damaged gzip file/);
  });

  test('labels and images of different lengths', async () => {
    await rejectsWith(
      load(config({ images: trainImages, labels: testLabels })),
      new RegExp(`^data\\.source\\.labels: ${testLabels} has 2000 labels but ${trainImages} has 3000 images`),
    );
  });

  test('a tiny hand-made file pair: 3 images of 2x2, classes filter', async () => {
    const images = path.join(tmp, 'tiny-images');
    const labels = path.join(tmp, 'tiny-labels');
    await writeFile(images, idx([2051, 3, 2, 2], Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])));
    await writeFile(labels, idx([2049, 3], Uint8Array.from([4, 2, 4])));
    const dataset = await load(config({ images, labels, classes: [4] }));
    assert.deepEqual([...dataset.pixels], [1, 2, 3, 4, 9, 10, 11, 12]);
    assert.deepEqual([...dataset.labels!], [4, 4]);
    await rejectsWith(
      load(config({ images, labels, classes: [3, 5] })),
      /classes \[3, 5\] matches none of the 3 labels in .*tiny-labels \(the label ids there are 2, 4\)/,
    );
    const partly = await load(config({ images, labels, classes: [2, 3] }));
    assert.equal(partly.count, 1);
    assert.match(partly.description, /no images of class 3/);
  });

  test('a file of 0 images, or of 0x0 images: an error naming it, before any transform', async () => {
    const empty = path.join(tmp, 'empty-images');
    await writeFile(empty, idx([2051, 0, 28, 28], new Uint8Array(0)));
    await rejectsWith(
      load(config({ images: empty })),
      new RegExp(`^data\\.source\\.images: ${empty} holds no images \\(its header says 0\\): there is nothing to train on$`),
    );
    const labels = path.join(tmp, 'empty-labels');
    await writeFile(labels, idx([2049, 0], new Uint8Array(0)));
    await rejectsWith(load(config({ images: empty, labels })), /empty-images holds no images/);
    const flat = path.join(tmp, 'flat-images');
    await writeFile(flat, idx([2051, 5, 0, 0], new Uint8Array(0)));
    const resize: Transform = { kind: 'resize', size: [8, 8], fit: 'fill', background: '#ffffff' };
    for (const transforms of [[], [resize]]) {
      await rejectsWith(
        load(config({ images: flat }, transforms)),
        new RegExp(`^data\\.source\\.images: ${flat} holds images of 0x0 pixels \\(says its header\\): an image needs at least one pixel$`),
      );
    }
  });

  test('classes without labels, and missing files', async () => {
    await rejectsWith(load(config({ images: trainImages, classes: [7] })), /^data\.source\.classes needs data\.source\.labels/);
    const missing = path.join(tmp, 'nope.gz');
    await rejectsWith(load(config({ images: missing })), new RegExp(`^data\\.source\\.images: the file ${missing} does not exist$`));
    await rejectsWith(load(config({ images: trainImages, labels: missing })), new RegExp(`^data\\.source\\.labels: the file ${missing} does not exist$`));
  });
});
