// The metrics for data without a classifier (patch SWD and patch precision/recall), on real RGB sprites.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { Data } from '../src/config/experiment.generated.ts';
import { useBackend } from '../src/backend/select.ts';
import { loadDataset } from '../src/data/dataset.ts';
import { type ImageSet, imagesFromDataset, imagesFromTensor, imagesFromValues } from '../src/eval/images.ts';
import { BASELINE_PREFIX, computeMetrics } from '../src/eval/metrics.ts';
import { Rng } from '../src/random/rng.ts';
import { POKEMON_ROOT } from './support/tiny-config.ts';

let sprites: ImageSet;

before(async () => {
  // SWD projects and sorts on the active backend: tensorflow where it is built, else cpu.
  await useBackend('tensorflow').catch(() => useBackend('cpu'));
  const data: Data = {
    source: { kind: 'imageFolder', root: POKEMON_ROOT },
    transforms: [
      { kind: 'flatten', background: '#ffffff' },
      { kind: 'resize', size: [32, 32], fit: 'fill', background: '#ffffff' },
    ],
    batchSize: 8,
    shuffle: false,
    onBadImage: 'skip',
    cache: false,
    limit: 600,
  };
  const dataset = await loadDataset(data, { cacheDir: mkdtempSync(join(tmpdir(), 'dcgan-run-eval-')) });
  sprites = imagesFromDataset(dataset);
});

const patches = { patchesPerImage: 8 };

describe('quality metrics without a classifier', () => {
  test('images from the generator range [-1, 1] map to [0, 1], clipped', async () => {
    const tensor = tf.tensor4d([-1, 0, 1, 1.5, -3, 0.5], [1, 1, 2, 3]);
    const images = await imagesFromTensor(tensor);
    tensor.dispose();
    assert.deepEqual(Array.from(images.data), [0, 0.5, 1, 1, 0, 0.75]);
    assert.deepEqual([images.count, images.height, images.width, images.channels], [1, 1, 2, 3]);
  });

  test('32x32 RGB sprites: patch SWD and precision/recall per level, with a real-vs-real baseline', async () => {
    const rng = new Rng(41);
    const noise = imagesFromValues(
      Float32Array.from({ length: 250 * 32 * 32 * 3 }, () => rng.next()),
      { count: 250, height: 32, width: 32, channels: 3 },
      [0, 1],
    );
    const metrics = await computeMetrics({ real: sprites, generated: noise, seed: 7, sampleSize: 250, patches });
    const names = Object.keys(metrics);
    for (const name of names) assert.match(name, /^[/\w.\- ]+$/);
    const levels = ['r32', 'r16', 'r8', 'avg'];
    for (const prefix of ['', BASELINE_PREFIX]) {
      for (const level of levels) {
        assert.ok(Number.isFinite(metrics[`${prefix}swd/patch7/n250/${level}`]), `${prefix}swd/patch7/n250/${level} in ${names}`);
        assert.ok(Number.isFinite(metrics[`${prefix}precision/patch7/n250/k3/${level}`]));
        assert.ok(Number.isFinite(metrics[`${prefix}recall/patch7/n250/k3/${level}`]));
      }
    }
    assert.ok(!names.some((name) => name.includes('fd/')), 'no classifier, no FD');
    for (const level of levels) {
      assert.ok(metrics[`swd/patch7/n250/${level}`] > 3 * metrics[`${BASELINE_PREFIX}swd/patch7/n250/${level}`], level);
    }
    assert.ok(metrics['precision/patch7/n250/k3/avg'] < 0.3 && metrics[`${BASELINE_PREFIX}precision/patch7/n250/k3/avg`] > 0.6);
    assert.ok(metrics[`${BASELINE_PREFIX}recall/patch7/n250/k3/avg`] > 0.6);

    // Seeded: the same call gives the same numbers; another seed other ones.
    const small = { real: sprites, generated: noise, sampleSize: 60, patches };
    const once = await computeMetrics({ ...small, seed: 8 });
    assert.deepEqual(await computeMetrics({ ...small, seed: 8 }), once);
    assert.notDeepEqual(await computeMetrics({ ...small, seed: 9 }), once);
  });

  test('the sample size adapts to the sets and is named; too few images or unequal shapes are refused', async () => {
    const few = { ...sprites, count: 40, data: sprites.data.subarray(0, 40 * 32 * 32 * 3) };
    const metrics = await computeMetrics({ real: sprites, generated: few, seed: 1, patches });
    assert.ok('swd/patch7/n40/avg' in metrics);
    const noBaseline = await computeMetrics({ real: few, generated: few, seed: 1, baseline: false, patches });
    // The same 40 images, though in another order (the real sample is a seeded permutation), so not exactly 0.
    assert.ok(noBaseline['swd/patch7/n40/avg'] < metrics['swd/patch7/n40/avg']);
    assert.ok(!Object.keys(noBaseline).some((name) => name.startsWith(BASELINE_PREFIX)));
    await assert.rejects(computeMetrics({ real: few, generated: { ...few, count: 5 }, seed: 1 }), /too few images/);
    const gray = imagesFromValues(new Float32Array(40 * 32 * 32), { count: 40, height: 32, width: 32, channels: 1 }, [0, 1]);
    await assert.rejects(computeMetrics({ real: sprites, generated: gray, seed: 1 }), /32x32x1 but the real ones 32x32x3/);
  });
});
