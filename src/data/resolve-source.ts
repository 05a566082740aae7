// The files behind a data.source: a named dataset resolves to an image folder or IDX files (verified in, or
// fetched into, the data cache); imageFolder and idx sources name their files themselves.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { IdxDataset, IdxSplitFiles, Split } from '../datasets/catalog.ts';
import { pokemonSpriteRoots } from '../datasets/pokemon-sprites.ts';
import { ensureFiles, type StoreOptions } from '../datasets/store.ts';
import { type FileSource, namedIdx, type Source } from '../plan/source.ts';

/** The files to read: a named dataset's files are verified in (or fetched into) the data cache first. */
export async function resolveSource(source: Source, store: StoreOptions = {}): Promise<FileSource> {
  switch (source.kind) {
    case 'imageFolder':
    case 'idx':
      return source;
    case 'pokemonSprites':
      return { kind: 'imageFolder', root: pokemonSpriteRoots(source) };
    case 'fashionMnist':
    case 'mnist': {
      const [images, labels] = await namedSplit(namedIdx(source)!, source.split, store);
      return { kind: 'idx', images, labels, ...(source.classes ? { classes: source.classes } : {}) };
    }
  }
}

/**
 * The labelled splits a classifier for this source learns from and is tested on: a named dataset's train and
 * test splits (whichever split the source reads), or an idx source's files with the t10k files beside them.
 */
export async function classifierSplits(
  source: Source,
  store: StoreOptions = {},
): Promise<{ train: IdxSplitFiles; test?: IdxSplitFiles; dataset?: IdxDataset }> {
  const dataset = namedIdx(source);
  if (dataset) {
    const [trainImages, trainLabels] = await namedSplit(dataset, 'train', store);
    const [testImages, testLabels] = await namedSplit(dataset, 'test', store);
    return { train: { images: trainImages, labels: trainLabels }, test: { images: testImages, labels: testLabels }, dataset };
  }
  if (source.kind !== 'idx' || !source.labels) throw new Error(`classifierSplits: a ${source.kind} source has no labels`);
  const folder = dirname(source.images);
  const test = { images: join(folder, 't10k-images-idx3-ubyte.gz'), labels: join(folder, 't10k-labels-idx1-ubyte.gz') };
  const hasTest = existsSync(test.images) && existsSync(test.labels) && resolve(test.images) !== resolve(source.images);
  return { train: { images: source.images, labels: source.labels }, ...(hasTest ? { test } : {}) };
}

async function namedSplit(dataset: IdxDataset, split: Split, store: StoreOptions): Promise<string[]> {
  const files = dataset.splits[split];
  return ensureFiles(dataset, [files.images, files.labels], store);
}
