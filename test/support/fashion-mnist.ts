// Fashion-MNIST for the tests: the full dataset when the data cache holds it, verified (.ci/run puts it there),
// otherwise the committed subset in test/fixtures, so the suite passes on a fresh clone without network.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDX_DATASETS } from '../../src/datasets/catalog.ts';
import { readChecksumOverride } from '../../src/datasets/checksums.ts';
import { datasetDir, datasetState, fetchDataset } from '../../src/datasets/store.ts';
import { PROJECT_ROOT } from './tiny-config.ts';

export const FASHION_SUBSET = join(PROJECT_ROOT, 'test/fixtures/fashion-mnist-subset');
export const FASHION = IDX_DATASETS['fashion-mnist'];

/** The subset's sums as an override file: "<md5>  fashion-mnist/<file>" per line. */
export function subsetChecksumsFile(dir = mkdtempSync(join(tmpdir(), 'dcgan-run-sums-'))): string {
  const file = join(dir, 'subset.md5');
  writeFileSync(file, readFileSync(join(FASHION_SUBSET, 'MD5SUMS'), 'utf8').replace(/ {2}/g, '  fashion-mnist/'));
  return file;
}

export interface FashionForTests {
  /** Whether this is the whole dataset (from the data cache) or the committed subset. */
  full: boolean;
  /** A folder with the four official file names. */
  dir: string;
  /** What a child process needs in its environment to find the same files as a named source (fashionMnist). */
  env: Record<string, string>;
  describe: string;
}

let chosen: Promise<FashionForTests> | undefined;

export function fashionMnistForTests(): Promise<FashionForTests> {
  chosen ??= choose();
  return chosen;
}

async function choose(): Promise<FashionForTests> {
  const state = await datasetState(FASHION);
  if (state.every((file) => file.verified)) {
    return { full: true, dir: datasetDir(FASHION), env: {}, describe: `the full Fashion-MNIST in the data cache (${datasetDir(FASHION)})` };
  }
  // A data cache of its own holding the subset, under the subset's sums, for runs of named sources.
  const root = mkdtempSync(join(tmpdir(), 'dcgan-run-data-'));
  const sums = subsetChecksumsFile(root);
  await fetchDataset(FASHION, { root, from: FASHION_SUBSET, checksums: readChecksumOverride(sums) });
  return {
    full: false,
    dir: FASHION_SUBSET,
    env: { DCGAN_RUN_DATA: root, DCGAN_RUN_TEST_CHECKSUMS: sums },
    describe: 'the committed subset (test/fixtures/fashion-mnist-subset: 3,000 train, 2,000 t10k images); the full dataset is not in the data cache',
  };
}
