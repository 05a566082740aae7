// --grids: per trial, its last sample grid, its loss plot, a grid of its own real images (its class, in a
// per-class sweep), and the real and generated grids side by side.
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Experiment } from '../../src/config/experiment.generated.ts';
import { loadDataset } from '../../src/data/dataset.ts';
import { imagesFromDataset } from '../../src/eval/images.ts';
import { cacheFolder } from '../../src/io/cache-folder.ts';
import { deriveSeed, Rng } from '../../src/random/rng.ts';
import { imageGridPng } from '../../src/render/grid.ts';
import { readRunConfig } from '../../src/track/run-dir.ts';
import { sideBySide } from './side-by-side.ts';
import type { Trial } from './trials.ts';

/** The trials must come from run directories (not --from). */
export async function writeGrids(dir: string, trials: Trial[]): Promise<void> {
  mkdirSync(dir, { recursive: true });
  // Trials on the same data share one load of it.
  const datasets = new Map<string, Awaited<ReturnType<typeof loadDataset>>>();
  for (const t of trials) {
    const samples = readdirSync(join(t.runDir!, 'samples')).sort();
    const generatedFile = join(dir, `${t.trial}.png`);
    copyFileSync(join(t.runDir!, 'samples', samples[samples.length - 1]!), generatedFile);
    if (existsSync(join(t.runDir!, 'losses.png'))) copyFileSync(join(t.runDir!, 'losses.png'), join(dir, `${t.trial}-losses.png`));
    const config: Experiment = readRunConfig(t.runDir!);
    const key = JSON.stringify(config.data);
    if (!datasets.has(key)) datasets.set(key, await loadDataset(config.data, { cacheDir: cacheFolder('data') }));
    const dataset = datasets.get(key)!;
    const count = Math.min(config.train.samples.count, dataset.count);
    const order = new Rng(deriveSeed(config.seed, 'results/real-grid')).permutation(dataset.count).subarray(0, count);
    const real = imagesFromDataset(dataset, order);
    const identity = { mean: Array(real.channels).fill(0), std: Array(real.channels).fill(1) };
    const realPng = await imageGridPng(real.data, real, identity, Math.min(7, count));
    writeFileSync(join(dir, `${t.trial}-real.png`), realPng);
    const epochLabel = samples[samples.length - 1]!.replace(/\.png$/, '');
    writeFileSync(
      join(dir, `${t.trial}-side.png`),
      await sideBySide(realPng, await sharp(generatedFile).png().toBuffer(), ['real', `generated (${epochLabel})`]),
    );
  }
}
