import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import type { Data } from '../src/config/experiment.generated.ts';
import { loadDataset } from '../src/data/dataset.ts';

function config(root: string, extra: Partial<Data> = {}): Data {
  return {
    source: { kind: 'imageFolder', root },
    transforms: [
      { kind: 'flatten', background: '#ffffff' },
      { kind: 'resize', size: [8, 8], fit: 'fill', background: '#ffffff' },
      { kind: 'randomHorizontalFlip', p: 0.5 },
      { kind: 'normalize', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
    ],
    batchSize: 4,
    shuffle: true,
    onBadImage: 'error',
    cache: true,
    ...extra,
  };
}

describe('the decoded-image cache', () => {
  let tmp: string;
  let root: string;
  let cacheDir: string;
  const files: string[] = [];

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'data-cache-'));
    root = path.join(tmp, 'images');
    cacheDir = path.join(tmp, 'cache', 'data');
    await mkdir(root);
    for (let i = 0; i < 5; i++) {
      const data = Uint8Array.from({ length: 12 * 10 * 4 }, (_, k) => (k * (i + 3) + i) & 255);
      const file = path.join(root, `${i}.png`);
      await writeFile(
        file,
        await sharp(data, { raw: { width: 12, height: 10, channels: 4 } })
          .png()
          .toBuffer(),
      );
      files.push(file);
    }
  });
  after(() => rm(tmp, { recursive: true, force: true }));

  test('the second load comes from the cache with identical pixels; touching a file invalidates it', async () => {
    const lines: string[] = [];
    const first = await loadDataset(config(root), { cacheDir, log: (line) => lines.push(line) });
    assert.equal(first.fromCache, false);
    const entries = (await readdir(cacheDir)).sort();
    assert.equal(entries.length, 2);
    assert.match(entries[0], /^[0-9a-f]{64}\.bin$/);
    assert.match(entries[1], /^[0-9a-f]{64}\.json$/);

    const second = await loadDataset(config(root), { cacheDir, log: (line) => lines.push(line) });
    assert.equal(second.fromCache, true);
    assert.deepEqual(second.pixels, first.pixels);
    assert.deepEqual(
      [second.count, second.height, second.width, second.channels, second.description, second.skipped],
      [first.count, first.height, first.width, first.channels, first.description, first.skipped],
    );
    assert.match(lines[0], /decoded in/);
    assert.match(lines[1], /\(from the cache\)$/);

    // Per-batch settings are not part of the key.
    const other = await loadDataset(config(root, { batchSize: 2, shuffle: false }), { cacheDir });
    assert.equal(other.fromCache, true);

    const later = new Date(Date.now() + 60_000);
    await utimes(files[2], later, later);
    const touched = await loadDataset(config(root), { cacheDir });
    assert.equal(touched.fromCache, false);
    assert.deepEqual(touched.pixels, first.pixels);
    assert.equal((await loadDataset(config(root), { cacheDir })).fromCache, true);
  });

  test('the key covers the cached transforms, limit and new files', async () => {
    await loadDataset(config(root), { cacheDir });
    const resized = config(root);
    resized.transforms[1] = { kind: 'resize', size: [6, 6], fit: 'fill', background: '#ffffff' };
    assert.equal((await loadDataset(resized, { cacheDir })).fromCache, false);
    assert.equal((await loadDataset(config(root, { limit: 3 }), { cacheDir })).fromCache, false);
    await writeFile(
      path.join(root, '5.png'),
      await sharp({ create: { width: 12, height: 10, channels: 3, background: '#000000' } })
        .png()
        .toBuffer(),
    );
    const grown = await loadDataset(config(root), { cacheDir });
    assert.equal(grown.fromCache, false);
    assert.equal(grown.count, 6);
  });

  test('cache: false neither reads nor writes the cache', async () => {
    const fresh = path.join(tmp, 'unused-cache');
    const first = await loadDataset(config(root, { cache: false }), { cacheDir: fresh });
    const second = await loadDataset(config(root, { cache: false }), { cacheDir: fresh });
    assert.equal(first.fromCache, false);
    assert.equal(second.fromCache, false);
    await assert.rejects(readdir(fresh), { code: 'ENOENT' });
  });

  test('a damaged entry (body of the wrong size) is rebuilt, not trusted', async () => {
    const dir = path.join(tmp, 'damaged');
    const first = await loadDataset(config(root), { cacheDir: dir });
    const body = (await readdir(dir)).find((name) => name.endsWith('.bin'))!;
    await writeFile(path.join(dir, body), Buffer.alloc(10));
    const again = await loadDataset(config(root), { cacheDir: dir });
    assert.equal(again.fromCache, false);
    assert.deepEqual(again.pixels, first.pixels);
    assert.equal((await loadDataset(config(root), { cacheDir: dir })).fromCache, true);
  });
});
