// `dcgan-run data list` and `dcgan-run data fetch <name> [--from <dir-or-url>]`: the named datasets, what the
// data cache holds of them (each file checked against its MD5), and fetching them up front or from files a
// user already has.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listImageFiles } from '../data/image-folder.ts';
import { findIdxDataset, IDX_DATASETS, type IdxDataset } from '../datasets/catalog.ts';
import { CHECKSUMS_OVERRIDE_ENV, checksumOverrideFromEnv } from '../datasets/checksums.ts';
import { DATA_DIR_ENV, dataRoot } from '../datasets/location.ts';
import { ALL_SPRITES, pokemonSpriteRoots, pokespriteDir } from '../datasets/pokemon-sprites.ts';
import { datasetDir, datasetState, fetchDataset, formatBytes } from '../datasets/store.ts';
import { UserError } from '../errors.ts';

const POKEMON = 'pokemon-sprites';
const log = (line: string) => process.stderr.write(`${line}\n`);

export async function dataListCommand(): Promise<void> {
  const root = dataRoot();
  const lines = [`data cache: ${root}${process.env[DATA_DIR_ENV] ? ` (from $${DATA_DIR_ENV})` : ` (set $${DATA_DIR_ENV} to move it)`}`];
  if (process.env[CHECKSUMS_OVERRIDE_ENV])
    lines.push(`checksums: the pinned MD5 sums are overridden by $${CHECKSUMS_OVERRIDE_ENV} (${process.env[CHECKSUMS_OVERRIDE_ENV]}): for tests only`);
  lines.push('');
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const dataset of Object.values(IDX_DATASETS)) {
    const files = await datasetState(dataset, { checksums: checksumOverrideFromEnv() });
    const present = files.filter((file) => file.bytes !== undefined);
    const verified = files.filter((file) => file.verified);
    const bytes = present.reduce((sum, file) => sum + file.bytes!, 0);
    const state =
      present.length === 0
        ? `not fetched (fetched on first use, or: dcgan-run data fetch ${dataset.name})`
        : `${verified.length} of ${files.length} files verified, ${formatBytes(bytes)}`;
    rows.push([dataset.name, `${dataset.title}, ${dataset.license}`, state]);
    for (const file of files) {
      if (file.bytes !== undefined && !file.verified)
        notes.push(`${file.path}: MD5 ${file.md5}, not ${file.expected}: not used; \`dcgan-run data fetch ${dataset.name}\` replaces it`);
    }
  }
  rows.push([POKEMON, `Pokemon box sprites, MIT (npm package pokesprite-images)`, await spritesState()]);
  const widths = [0, 1].map((i) => Math.max(...rows.map((row) => row[i].length)));
  lines.push(...rows.map(([name, title, state]) => `${name.padEnd(widths[0])}  ${title.padEnd(widths[1])}  ${state}`));
  if (notes.length > 0) lines.push('', ...notes);
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function spritesState(): Promise<string> {
  try {
    const dir = pokespriteDir();
    const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string };
    const { files } = await listImageFiles(pokemonSpriteRoots(ALL_SPRITES));
    return `${files.length} sprites, version ${version}, installed at ${dir}`;
  } catch (error) {
    if (error instanceof UserError) return error.message;
    throw error;
  }
}

export async function dataFetchCommand(name: string, options: { from?: string }): Promise<void> {
  if (name === POKEMON || name === 'pokemonSprites') {
    log(`${POKEMON}: installed with dcgan-run (the npm package pokesprite-images, at ${pokespriteDir()}): nothing to fetch`);
    return;
  }
  const dataset = findIdxDataset(name);
  if (!dataset) throw new UserError(`data fetch: no dataset named ${name}; the named datasets are ${[...Object.keys(IDX_DATASETS), POKEMON].join(', ')}`);
  const written = await fetchDataset(dataset, { from: options.from, log });
  log(summary(dataset, written));
}

function summary(dataset: IdxDataset, written: string[]): string {
  const where = datasetDir(dataset);
  if (written.length === 0) return `${dataset.name}: every file is already in ${where}, MD5 verified`;
  return `${dataset.name}: ${written.length} file${written.length === 1 ? '' : 's'} written to ${where}, every file MD5 verified`;
}
