// Small experiments for end-to-end tests: real Pokemon sprites, a network small enough for the cpu backend.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { loadExperiment } from '../../src/config/load-experiment.ts';
import type { Experiment } from '../../src/config/experiment.generated.ts';

export const PROJECT_ROOT = resolve(import.meta.dirname, '../..');
export const POKEMON_ROOT = join(PROJECT_ROOT, 'node_modules/pokesprite-images/pokemon-gen8/regular');

/** Writes a tiny experiment (8x8 RGB sprites, 8 channels) into a fresh folder and loads it; `extra` is merged as overrides. */
export function tinyExperiment(extra: Record<string, unknown> = {}, overrides: string[] = []): { config: Experiment; file: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'dcgan-run-test-'));
  const experiment = {
    name: 'tiny',
    seed: 7,
    data: {
      source: { kind: 'imageFolder', root: POKEMON_ROOT },
      transforms: [
        { kind: 'flatten' },
        { kind: 'resize', size: [8, 8] },
        { kind: 'randomHorizontalFlip' },
        { kind: 'normalize', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] },
      ],
      batchSize: 8,
      limit: 20,
    },
    model: { latentDim: 8, imageSize: 8, generator: { blocks: 2, baseChannels: 4 }, discriminator: { blocks: 2, baseChannels: 4 } },
    // No HTML report (test/report-*.test.ts write theirs): it would add a second or so to every run.
    train: { epochs: 2, samples: { count: 6 }, checkpoint: { every: 1 }, logEvery: 1, backend: 'cpu', report: false },
    tracking: { runsDir: join(dir, 'runs') },
    ...extra,
  };
  const file = join(dir, 'tiny.yaml');
  writeFileSync(file, stringify(experiment));
  return { ...loadExperiment(file, overrides), file, dir };
}

/** Every stable-GAN option at once, as overrides: hinge loss, spectral norm without batch norm in D, DiffAugment, EMA, resize-convolutions in G. */
export const STABLE = [
  'model.generator.upsample=nearest',
  'train.loss=hinge',
  'model.discriminator.spectralNorm=true',
  'model.discriminator.batchNorm=false',
  'train.augment={policy: [color, translation, cutout]}',
  'train.ema={beta: 0.5}',
];
