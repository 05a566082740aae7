// The data cache of named datasets: <root>/<dataset>/<official file name>. A file is used only when its MD5
// matches; a missing or mismatching file is fetched from the dataset's mirrors in order, or imported from a
// folder or base URL the user names (`dcgan-run data fetch <name> --from <dir-or-url>`).
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { UserError } from '../errors.ts';
import { datasetFiles, type IdxDataset } from './catalog.ts';
import { type ChecksumOverride, checksumOverrideFromEnv, expectedMd5, md5OfFile } from './checksums.ts';
import { dataRoot } from './location.ts';
import { ChecksumMismatch, fromFile, fromUrl, type OnBytes, writeVerified } from './transfer.ts';

export const MIRRORS_ENV = 'DCGAN_RUN_DATA_MIRRORS';

export interface StoreOptions {
  /** The data cache (default: $DCGAN_RUN_DATA or the user cache folder). */
  root?: string;
  /** Base URLs to fetch from instead of the dataset's own (default: $DCGAN_RUN_DATA_MIRRORS, space- or comma-separated). */
  mirrors?: string[];
  /** Sums that replace the pinned ones (default: $DCGAN_RUN_TEST_CHECKSUMS); tests only. */
  checksums?: ChecksumOverride;
  /** A transfer that sends nothing for this long gives way to the next mirror. */
  idleTimeoutMs?: number;
  log?: (line: string) => void;
}

const IDLE_TIMEOUT_MS = 30_000;

interface Resolved {
  root: string;
  mirrors: (dataset: IdxDataset) => string[];
  checksums?: ChecksumOverride;
  idleTimeoutMs: number;
  log: (line: string) => void;
}

function resolveOptions(options: StoreOptions): Resolved {
  const fromEnv = process.env[MIRRORS_ENV]?.split(/[\s,]+/).filter(Boolean);
  const mirrors = options.mirrors ?? (fromEnv && fromEnv.length > 0 ? fromEnv : undefined);
  return {
    root: options.root ?? dataRoot(),
    mirrors: (dataset) => mirrors ?? dataset.mirrors,
    checksums: options.checksums ?? checksumOverrideFromEnv(),
    idleTimeoutMs: options.idleTimeoutMs ?? IDLE_TIMEOUT_MS,
    log: options.log ?? (() => {}),
  };
}

export function datasetDir(dataset: IdxDataset, options: StoreOptions = {}): string {
  return join(options.root ?? dataRoot(), dataset.name);
}

export interface FileState {
  file: string;
  path: string;
  /** Bytes on disk; undefined when the file is not there. */
  bytes?: number;
  /** Whether its MD5 is the one it must have. */
  verified: boolean;
  md5?: string;
  expected: string;
}

/** What the cache holds of `dataset`, each file checked against its sum. */
export async function datasetState(dataset: IdxDataset, options: StoreOptions = {}): Promise<FileState[]> {
  const store = resolveOptions(options);
  return Promise.all(datasetFiles(dataset).map((file) => fileState(dataset, file, store)));
}

async function fileState(dataset: IdxDataset, file: string, store: Resolved): Promise<FileState> {
  const path = join(store.root, dataset.name, file);
  const expected = expectedMd5(dataset, file, store.checksums);
  if (!existsSync(path)) return { file, path, verified: false, expected };
  const md5 = await md5OfFile(path);
  return { file, path, bytes: statSync(path).size, verified: md5 === expected, md5, expected };
}

/**
 * The paths of `files` of `dataset` in the cache, each verified; what is missing or does not match is
 * downloaded first. Throws a UserError that says how to proceed when a file cannot be had.
 */
export async function ensureFiles(dataset: IdxDataset, files: string[], options: StoreOptions = {}): Promise<string[]> {
  const store = resolveOptions(options);
  const paths: string[] = [];
  for (const file of files) {
    const state = await fileState(dataset, file, store);
    if (!state.verified) {
      if (state.md5) store.log(`data: ${state.path} has MD5 ${state.md5}, not ${state.expected}: fetching it again`);
      await download(dataset, file, store.mirrors(dataset), store);
    }
    paths.push(state.path);
  }
  return paths;
}

/**
 * Puts every file of `dataset` in the cache: from the mirrors, or `from` (a folder holding the files under
 * their official names, or a base URL). Files already there and verified are kept. Returns the files that were
 * written.
 */
export async function fetchDataset(dataset: IdxDataset, options: StoreOptions & { from?: string } = {}): Promise<string[]> {
  const store = resolveOptions(options);
  const written: string[] = [];
  for (const file of datasetFiles(dataset)) {
    const state = await fileState(dataset, file, store);
    if (state.verified) continue;
    if (options.from && !/^https?:\/\//.test(options.from)) await importFile(dataset, file, resolve(options.from), store);
    else await download(dataset, file, options.from ? [options.from] : store.mirrors(dataset), store);
    written.push(state.path);
  }
  return written;
}

async function importFile(dataset: IdxDataset, file: string, folder: string, store: Resolved): Promise<void> {
  const source = join(folder, file);
  if (!existsSync(source)) {
    throw new UserError(
      `data fetch ${dataset.name} --from ${folder}: ${file} is not there (the folder must hold the official files: ${datasetFiles(dataset).join(', ')})`,
    );
  }
  const expected = expectedMd5(dataset, file, store.checksums);
  try {
    await writeVerified(fromFile(source, statSync(source).size), join(store.root, dataset.name, file), expected);
  } catch (error) {
    if (!(error instanceof ChecksumMismatch)) throw error;
    throw new UserError(`data fetch ${dataset.name} --from ${folder}: ${source} has ${error.message}: it is not the official ${file}, so it was not copied`);
  }
  store.log(`data: ${file} copied from ${folder} (MD5 verified)`);
}

/** Tries each base URL in order; the first transfer whose sum matches lands in the cache. */
async function download(dataset: IdxDataset, file: string, mirrors: string[], store: Resolved): Promise<void> {
  const dest = join(store.root, dataset.name, file);
  const expected = expectedMd5(dataset, file, store.checksums);
  const failures: string[] = [];
  for (const base of mirrors) {
    const url = new URL(file, base.endsWith('/') ? base : `${base}/`).href;
    const started = performance.now();
    const bar = progressBar(file);
    try {
      await writeVerified(await fromUrl(url, store.idleTimeoutMs), dest, expected, bar?.update);
      bar?.stop();
      store.log(`data: downloaded ${url} (${formatBytes(statSync(dest).size)} in ${((performance.now() - started) / 1000).toFixed(1)} s, MD5 verified)`);
      return;
    } catch (error) {
      bar?.stop();
      const reason = error instanceof ChecksumMismatch ? `${error.message}: refused` : (error as Error).message;
      store.log(`data: ${url}: ${reason}`);
      failures.push(`  ${url}: ${reason}`);
    }
  }
  throw new UserError(
    [
      `${dataset.title}: ${file} is not in the data cache (${join(store.root, dataset.name)}) and could not be downloaded:`,
      ...failures,
      `Offline? Run \`dcgan-run data fetch ${dataset.name}\` where there is a network and copy that folder here, or import files you already have with \`dcgan-run data fetch ${dataset.name} --from <dir>\`.`,
    ].join('\n'),
  );
}

/** A bar on a terminal; nothing in logs and pipes, where the line after the download says what happened. */
function progressBar(file: string): { update: OnBytes; stop: () => void } | undefined {
  if (!process.stderr.isTTY) return undefined;
  const bar = new cliProgress.SingleBar(
    { format: `${file} [{bar}] {percentage}% {done} of {size}`, stream: process.stderr, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update: (received, total) => {
      const payload = { done: formatBytes(received), size: total ? formatBytes(total) : '?' };
      if (!started) bar.start(total ?? 0, 0, payload);
      started = true;
      bar.update(received, payload);
    },
    stop: () => started && bar.stop(),
  };
}

export function formatBytes(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`;
}
