import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Data, Transform } from '../src/config/experiment.generated.ts';
import { batchesPerEpoch, batchShape, epochBatches, type ImageDataset } from '../src/data/dataset.ts';
import { UserError } from '../src/errors.ts';

/** `count` images whose pixel values encode (image, y, x, channel), so every output value can be traced back. */
function dataset(
  count: number,
  height: number,
  width: number,
  channels: 1 | 3,
  value = (i: number, y: number, x: number, c: number) => (i * 7 + y * 5 + x * 3 + c) % 256,
): ImageDataset {
  const pixels = new Uint8Array(count * height * width * channels);
  for (let i = 0; i < count; i++)
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) pixels[((i * height + y) * width + x) * channels + c] = value(i, y, x, c);
  return { count, height, width, channels, pixels, skipped: [], description: 'synthetic', fromCache: false };
}

function config(transforms: Transform[], extra: Partial<Data> = {}): Data {
  return { source: { kind: 'imageFolder', root: '/unused' }, transforms, batchSize: 4, shuffle: true, onBadImage: 'error', cache: false, ...extra };
}

function all(ds: ImageDataset, data: Data, seed: number, epoch: number) {
  return [...epochBatches(ds, data, { seed, epoch })];
}

/** Images keyed by their first value, for tracing: image i has first pixel (i*7) / 255 when nothing moves it. */
function imageOrder(batches: { images: Float32Array; count: number }[], imageSize: number): number[] {
  return batches.flatMap((batch) => Array.from({ length: batch.count }, (_, i) => Math.round((batch.images[i * imageSize] * 255) / 7)));
}

const flip: Transform = { kind: 'randomHorizontalFlip', p: 0.5 };
const half: Transform = { kind: 'normalize', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] };

describe('epochBatches', () => {
  test('each image exactly once per epoch; the last batch is the smaller remainder', () => {
    const ds = dataset(30, 2, 2, 3);
    const batches = all(ds, config([]), 1, 0);
    assert.equal(batchesPerEpoch(ds, 4), 8);
    assert.deepEqual(
      batches.map((b) => b.count),
      [4, 4, 4, 4, 4, 4, 4, 2],
    );
    assert.deepEqual(
      batches.map((b) => b.index),
      [0, 1, 2, 3, 4, 5, 6, 7],
    );
    assert.deepEqual(
      batches.map((b) => b.images.length),
      [...Array(7).fill(4 * 12), 2 * 12],
    );
    const order = imageOrder(batches, 12);
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      Array.from({ length: 30 }, (_, i) => i),
    );
    assert.notDeepEqual(
      order,
      Array.from({ length: 30 }, (_, i) => i),
    );
  });

  test('the same seed and epoch give the same batches; other epochs and seeds differ', () => {
    const ds = dataset(50, 4, 4, 3);
    const data = config([flip, { kind: 'randomCrop', size: [3, 3] }, half], { batchSize: 16 });
    const a = all(ds, data, 7, 3);
    const b = all(ds, data, 7, 3);
    assert.deepEqual(a, b);
    assert.notDeepEqual(
      all(ds, data, 7, 4).map((x) => x.images),
      a.map((x) => x.images),
    );
    assert.notDeepEqual(
      all(ds, data, 8, 3).map((x) => x.images),
      a.map((x) => x.images),
    );
  });

  test('the shuffle is the permutation of the stream shuffle/<epoch>; shuffle: false keeps file order', () => {
    const ds = dataset(20, 1, 1, 3);
    const e0 = imageOrder(all(ds, config([]), 0, 0), 3);
    const e1 = imageOrder(all(ds, config([]), 0, 1), 3);
    assert.notDeepEqual(e0, e1);
    assert.deepEqual(
      imageOrder(all(ds, config([], { shuffle: false }), 0, 5), 3),
      Array.from({ length: 20 }, (_, i) => i),
    );
  });

  test('without normalize values are x/255; normalize 0.5/0.5 maps 0 to -1 and 255 to 1', () => {
    const ds = dataset(2, 1, 2, 3, (i, _y, x) => (i === 0 ? 0 : 255) * (x === 0 ? 1 : 0) + (x === 1 ? 51 : 0));
    const plain = all(ds, config([], { shuffle: false }), 0, 0)[0].images;
    assert.deepEqual([...plain], [0, 0, 0, 0.2, 0.2, 0.2, 1, 1, 1, 0.2, 0.2, 0.2].map(Math.fround));
    const normalized = all(ds, config([half], { shuffle: false }), 0, 0)[0].images;
    assert.deepEqual([...normalized.subarray(0, 3)], [-1, -1, -1]);
    assert.deepEqual([...normalized.subarray(6, 9)], [1, 1, 1]);
    assert.ok(Math.abs(normalized[3] - (0.2 - 0.5) / 0.5) < 1e-6);
    const perChannel = all(ds, config([{ kind: 'normalize', mean: [0, 0.5, 1], std: [1, 0.25, 2] }], { shuffle: false }), 0, 0)[0].images;
    assert.deepEqual([...perChannel.subarray(6, 9)], [1, 2, 0]);
  });

  test('flip with p=1 mirrors every image exactly; p=0 never does', () => {
    const ds = dataset(3, 2, 5, 3);
    const flipped = all(ds, config([{ kind: 'randomHorizontalFlip', p: 1 }], { shuffle: false, batchSize: 3 }), 0, 0)[0].images;
    const plain = all(ds, config([{ kind: 'randomHorizontalFlip', p: 0 }], { shuffle: false, batchSize: 3 }), 0, 0)[0].images;
    for (let i = 0; i < 3; i++)
      for (let y = 0; y < 2; y++)
        for (let x = 0; x < 5; x++)
          for (let c = 0; c < 3; c++) {
            const at = ((i * 2 + y) * 5 + x) * 3 + c;
            const mirrored = ((i * 2 + y) * 5 + (4 - x)) * 3 + c;
            assert.equal(flipped[at], Math.fround(ds.pixels[mirrored] / 255));
            assert.equal(plain[at], Math.fround(ds.pixels[at] / 255));
          }
  });

  test('p=0.5 flips about half of the images', () => {
    const ds = dataset(2000, 1, 2, 1, (_i, _y, x) => (x === 0 ? 0 : 255));
    const batches = all(ds, config([flip], { batchSize: 500 }), 3, 0);
    const flipped = batches.flatMap((b) => Array.from({ length: b.count }, (_, i) => b.images[i * 2] === 1)).filter(Boolean).length;
    assert.ok(flipped > 900 && flipped < 1100, String(flipped));
  });

  test('randomCrop windows are inside the image, vary, and copy the source exactly', () => {
    const ds = dataset(1, 6, 6, 1, (_i, y, x) => y * 16 + x);
    const seen = new Set<string>();
    for (let epoch = 0; epoch < 40; epoch++) {
      const [batch] = all(ds, config([{ kind: 'randomCrop', size: [3, 4] }]), 0, epoch);
      const values = [...batch.images].map((v) => Math.round(v * 255));
      const top = values[0] >> 4;
      const left = values[0] & 15;
      assert.ok(top <= 3 && left <= 2, `${top},${left}`);
      for (let y = 0; y < 3; y++) for (let x = 0; x < 4; x++) assert.equal(values[y * 4 + x], (top + y) * 16 + left + x);
      seen.add(`${top},${left}`);
    }
    assert.ok(seen.size >= 8, String(seen.size));
  });

  test('crop after flip: the window is taken from the mirrored image', () => {
    const ds = dataset(1, 1, 4, 1, (_i, _y, x) => x);
    const [batch] = all(
      ds,
      config([
        { kind: 'randomHorizontalFlip', p: 1 },
        { kind: 'centerCrop', size: [1, 2] },
      ]),
      0,
      0,
    );
    assert.deepEqual(
      [...batch.images].map((v) => Math.round(v * 255)),
      [2, 1],
    );
  });

  test('grayscale per batch is BT.601 luma and gives one channel', () => {
    const ds = dataset(1, 1, 1, 3, (_i, _y, _x, c) => [200, 100, 50][c]);
    const data = config([flip, { kind: 'grayscale' }, { kind: 'normalize', mean: [0.5], std: [0.5] }]);
    assert.deepEqual(batchShape(ds, data), { height: 1, width: 1, channels: 1 });
    const [batch] = all(ds, data, 0, 0);
    assert.equal(batch.images.length, 1);
    const luma = (0.299 * 200 + 0.587 * 100 + 0.114 * 50) / 255;
    assert.ok(Math.abs(batch.images[0] - (luma - 0.5) / 0.5) < 1e-6);
  });

  test('the per-batch transforms must fit the dataset', () => {
    const ds = dataset(1, 4, 4, 3);
    assert.throws(
      () => all(ds, config([{ kind: 'randomCrop', size: [5, 4] }]), 0, 0),
      (error: Error) => error instanceof UserError && /crops 5x4 out of 4x4/.test(error.message),
    );
    assert.throws(() => all(ds, config([{ kind: 'normalize', mean: [0.5], std: [0.5] }]), 0, 0), /mean has 1 values but the images have 3 channels/);
  });
});
