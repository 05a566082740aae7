import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../src/backend/select.ts';
import { readIdx } from '../src/data/idx.ts';
import { type ImageSet, imagesFromDataset } from '../src/eval/images.ts';
import { laplacianPyramid, patchDescriptors, patchSwd, slicedWasserstein, swdOfDescriptors } from '../src/eval/swd.ts';
import { Rng } from '../src/random/rng.ts';
import { FASHION_SUBSET } from './support/fashion-mnist.ts';
import { needs } from './support/requirements.ts';

let real: ImageSet;
// Registering tfjs-node makes tensorflow the default backend: the tests below set cpu explicitly.
const hasTensorflow = await useBackend('tensorflow').then(
  () => true,
  () => false,
);

before(async () => {
  await tf.setBackend('cpu');
  const idx = await readIdx({ kind: 'idx', images: join(FASHION_SUBSET, 't10k-images-idx3-ubyte.gz') }, 600);
  real = imagesFromDataset({ ...idx, channels: 1 });
});

function slice(images: ImageSet, start: number, count: number): ImageSet {
  const size = images.height * images.width * images.channels;
  return { ...images, count, data: images.data.slice(start * size, (start + count) * size) };
}

function mapPixels(images: ImageSet, f: (value: number, index: number) => number): ImageSet {
  return { ...images, data: images.data.map(f) };
}

const options = { seed: 5, patchesPerImage: 16 };

describe('sliced Wasserstein distance', () => {
  test('in one dimension it is the Wasserstein-1 distance of the sorted samples', async () => {
    const a = { count: 4, dim: 1, data: Float32Array.from([3, 0, 2, 1]) };
    const b = { count: 4, dim: 1, data: Float32Array.from([4, 1, 2, 3]) };
    assert.ok(Math.abs((await slicedWasserstein(a, b, { seed: 1 })) - 1) < 1e-6);
  });

  test('a shift s in 2-D gives the mean of |s.u| over unit directions u: 2|s|/pi', async () => {
    const rng = new Rng(31);
    const n = 500;
    const a = Float32Array.from({ length: 2 * n }, () => rng.normal());
    const b = Float32Array.from(a, (value, i) => value + (i % 2 === 0 ? 3 : 4)); // |s| = 5
    const swd = await slicedWasserstein({ count: n, dim: 2, data: a }, { count: n, dim: 2, data: b }, { seed: 2, directions: 256, repeats: 8 });
    assert.ok(Math.abs(swd - 10 / Math.PI) < 0.05 * (10 / Math.PI), `${swd} vs ${10 / Math.PI}`);
  });

  test('the Laplacian pyramid of a constant image is zero but for its last (Gaussian) level', () => {
    const image: ImageSet = { count: 2, height: 28, width: 28, channels: 3, data: new Float32Array(2 * 28 * 28 * 3).fill(0.25) };
    const levels = laplacianPyramid(image, 7);
    assert.deepEqual(
      levels.map((level) => [level.height, level.width]),
      [
        [28, 28],
        [14, 14],
        [7, 7],
      ],
    );
    for (const level of levels.slice(0, -1)) assert.ok(level.data.every((value) => Math.abs(value) < 1e-7));
    assert.ok(levels[2].data.every((value) => Math.abs(value - 0.25) < 1e-7));
  });

  test('a 28x28 set has levels r28 and r14 of 7x7 patches; positions are seeded', () => {
    const levels = patchDescriptors(slice(real, 0, 10), options);
    assert.deepEqual(
      levels.map((level) => [level.resolution, level.count, level.dim]),
      [
        [28, 160, 49],
        [14, 160, 49],
      ],
    );
    assert.deepEqual(patchDescriptors(slice(real, 0, 10), options)[0].data, levels[0].data);
  });

  test('identical sets: exactly 0 at every level', async () => {
    const set = slice(real, 0, 200);
    const swd = await patchSwd(set, slice(real, 0, 200), options);
    assert.deepEqual(
      swd.levels.map((level) => level.swd),
      [0, 0],
    );
    assert.equal(swd.average, 0);
  });

  test('a brightness shift, pixel noise and a contrast change are all far above the real-vs-real floor', async () => {
    const a = patchDescriptors(slice(real, 0, 300), options);
    const compare = (images: ImageSet) => swdOfDescriptors(a, patchDescriptors(images, options), options);
    const b = slice(real, 300, 300);
    const floor = await compare(b);
    const rng = new Rng(32);
    const shifted = {
      brighter: await compare(mapPixels(b, (value) => Math.min(1, value + 0.15))),
      noisy: await compare(mapPixels(b, (value) => Math.min(1, Math.max(0, value + 0.15 * rng.normal())))),
      flat: await compare(mapPixels(b, (value) => 0.5 + 0.5 * (value - 0.5))),
    };
    for (const [name, swd] of Object.entries(shifted)) {
      assert.ok(swd.average > 2 * floor.average, `${name} ${swd.average} vs real-vs-real ${floor.average}`);
    }
    // Noise lives in the fine (Laplacian) level, a brightness shift in the coarse (Gaussian) one.
    assert.ok(shifted.noisy.levels[0].swd > 3 * floor.levels[0].swd, `noisy ${JSON.stringify(shifted.noisy)} vs ${JSON.stringify(floor)}`);
    assert.ok(shifted.brighter.levels[1].swd > 3 * floor.levels[1].swd, `brighter ${JSON.stringify(shifted.brighter)} vs ${JSON.stringify(floor)}`);
  });

  test(
    'the tf.topk path of native backends gives what the typed-array sort of the cpu backend gives',
    { skip: needs('tensorflow', !hasTensorflow && 'the tensorflow backend is not available') },
    async () => {
      const a = patchDescriptors(slice(real, 0, 100), options);
      const b = patchDescriptors(slice(real, 100, 100), options);
      await tf.setBackend('cpu');
      const onCpu = await swdOfDescriptors(a, b, options);
      await useBackend('tensorflow');
      try {
        const onTensorflow = await swdOfDescriptors(a, b, options);
        onCpu.levels.forEach((level, i) =>
          assert.ok(Math.abs(level.swd - onTensorflow.levels[i].swd) < 1e-5 * level.swd, `${level.swd} vs ${onTensorflow.levels[i].swd}`),
        );
      } finally {
        await tf.setBackend('cpu');
      }
    },
  );
});
