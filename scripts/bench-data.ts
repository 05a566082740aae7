// Data loader throughput on the Pokemon sprites with the lesson's transforms: the cold first load (decode +
// flatten + resize, no cache) and epochBatches with a warm cache. One JSON line per measurement.
// Usage: node --import tsx scripts/bench-data.ts [--epochs N] [--batch N]
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Data } from '../src/config/experiment.generated.ts';
import { epochBatches, loadDataset } from '../src/data/dataset.ts';

const { values } = parseArgs({ options: { epochs: { type: 'string', default: '20' }, batch: { type: 'string', default: '256' } } });
const projectRoot = fileURLToPath(new URL('../', import.meta.url));
const data: Data = {
  source: { kind: 'imageFolder', root: path.join(projectRoot, 'node_modules/pokesprite-images/pokemon-gen8/regular') },
  transforms: [
    { kind: 'flatten', background: '#ffffff' },
    { kind: 'resize', size: [64, 64], fit: 'fill', background: '#ffffff' },
    { kind: 'randomHorizontalFlip', p: 0.5 },
    { kind: 'normalize', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
  ],
  batchSize: Number(values.batch),
  shuffle: true,
  onBadImage: 'error',
  cache: true,
};

const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'bench-data-'));
try {
  let started = performance.now();
  const cold = await loadDataset(data, { cacheDir });
  const coldSeconds = (performance.now() - started) / 1000;
  console.log(JSON.stringify({ measure: 'coldLoad', images: cold.count, seconds: round(coldSeconds), imagesPerSecond: Math.round(cold.count / coldSeconds) }));

  started = performance.now();
  const warm = await loadDataset(data, { cacheDir });
  console.log(JSON.stringify({ measure: 'warmLoad', fromCache: warm.fromCache, seconds: round((performance.now() - started) / 1000) }));

  // Each epoch timed on its own: the first runs partly before V8 has optimised the copy loop.
  const epochs = Number(values.epochs);
  const perEpoch: number[] = [];
  let checksum = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    started = performance.now();
    for (const batch of epochBatches(warm, data, { seed: 0, epoch })) {
      checksum += batch.images[batch.images.length - 1]; // keeps the work observable
    }
    perEpoch.push(warm.count / ((performance.now() - started) / 1000));
  }
  const sorted = [...perEpoch].sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      measure: 'epochBatches',
      batchSize: data.batchSize,
      epochs,
      imagesPerEpoch: warm.count,
      firstEpochImagesPerSecond: Math.round(perEpoch[0]),
      medianImagesPerSecond: Math.round(sorted[Math.floor(sorted.length / 2)]),
      minImagesPerSecond: Math.round(sorted[0]),
      checksum: round(checksum),
    }),
  );
} finally {
  await rm(cacheDir, { recursive: true, force: true });
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
