// On-disk cache of the decoded, deterministically transformed pixels: <key>.bin (pixels, then labels) and
// <key>.json (shape and description). The JSON is renamed into place last, so it marks a complete entry.
import { createHash, randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { canonicalJson } from '../io/canonical-json.ts';
import type { ImageDataset } from './types.ts';

/** Bump when the decoding or a transform changes what it produces, so old entries are not reused. */
const CACHE_VERSION = 1;

interface Header {
  version: number;
  count: number;
  height: number;
  width: number;
  channels: 1 | 3;
  hasLabels: boolean;
  skipped: string[];
  description: string;
}

/**
 * [path, size, mtime in ms] of each file: a touched, replaced or resized file changes the key. A file that
 * cannot be stat'ed gets -1s; reading it later reports the problem.
 */
export async function fingerprints(files: string[]): Promise<[string, number, number][]> {
  return Promise.all(
    files.map(async (file): Promise<[string, number, number]> => {
      const info = await stat(file).catch(() => undefined);
      return [file, info?.size ?? -1, info?.mtimeMs ?? -1];
    }),
  );
}

export function cacheKey(parts: Record<string, unknown>): string {
  return createHash('sha256')
    .update(canonicalJson({ version: CACHE_VERSION, ...parts }))
    .digest('hex');
}

export function cachePaths(cacheDir: string, key: string): { header: string; body: string } {
  return { header: path.join(cacheDir, `${key}.json`), body: path.join(cacheDir, `${key}.bin`) };
}

/** The cached dataset, or undefined when there is none (or it is incomplete or from another version). */
export async function readCache(cacheDir: string, key: string): Promise<ImageDataset | undefined> {
  const paths = cachePaths(cacheDir, key);
  let header: Header;
  try {
    header = JSON.parse(await readFile(paths.header, 'utf8')) as Header;
  } catch {
    return undefined;
  }
  const pixelBytes = header.count * header.height * header.width * header.channels;
  const total = pixelBytes + (header.hasLabels ? header.count : 0);
  if (header.version !== CACHE_VERSION || (await stat(paths.body).catch(() => undefined))?.size !== total) return undefined;
  const body = await readAll(paths.body, total);
  return {
    count: header.count,
    height: header.height,
    width: header.width,
    channels: header.channels,
    pixels: body.subarray(0, pixelBytes),
    labels: header.hasLabels ? body.subarray(pixelBytes) : undefined,
    skipped: header.skipped,
    description: header.description,
    fromCache: true,
  };
}

/** Writes the entry atomically: temp files renamed into place, so a crash or a parallel run never leaves half a file. */
export async function writeCache(cacheDir: string, key: string, dataset: ImageDataset): Promise<void> {
  await mkdir(cacheDir, { recursive: true });
  const paths = cachePaths(cacheDir, key);
  const suffix = `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const header: Header = {
    version: CACHE_VERSION,
    count: dataset.count,
    height: dataset.height,
    width: dataset.width,
    channels: dataset.channels,
    hasLabels: dataset.labels !== undefined,
    skipped: dataset.skipped,
    description: dataset.description,
  };
  try {
    const file = await open(paths.body + suffix, 'w');
    try {
      await writeAll(file, dataset.pixels, 0);
      if (dataset.labels) await writeAll(file, dataset.labels, dataset.pixels.byteLength);
    } finally {
      await file.close();
    }
    await writeFile(paths.header + suffix, JSON.stringify(header));
    await rename(paths.body + suffix, paths.body);
    await rename(paths.header + suffix, paths.header);
  } finally {
    await rm(paths.body + suffix, { force: true });
    await rm(paths.header + suffix, { force: true });
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  for (let at = 0; at < bytes.byteLength;) {
    const { bytesWritten } = await handle.write(bytes, at, Math.min(bytes.byteLength - at, 1 << 30), position + at);
    at += bytesWritten;
  }
}

/** Reads in chunks into one array: fs.readFile stops at 2 GiB. */
async function readAll(file: string, size: number): Promise<Uint8Array> {
  const out = new Uint8Array(size);
  const handle = await open(file, 'r');
  try {
    for (let at = 0; at < size;) {
      const { bytesRead } = await handle.read(out, at, Math.min(size - at, 1 << 30), at);
      if (bytesRead === 0) throw new Error(`${file} ended after ${at} of ${size} bytes`);
      at += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return out;
}
