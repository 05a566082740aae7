// A folder of image files: listing (recursive, sorted) and decoding with sharp.
import { readFile, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { UserError } from '../errors.ts';
import { mapLimit } from './pool.ts';
import type { RawImage } from './types.ts';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.gif'];

/** Decodes in flight at once: sharp decodes on its own thread pool, so a few more than cores keeps it busy. */
const DECODE_CONCURRENCY = 8;

/** The folders of an imageFolder source, in the order given (data.source.root is one folder or a list). */
export function sourceRoots(root: string | string[]): string[] {
  return Array.isArray(root) ? root : [root];
}

export interface ImageListing {
  files: string[];
  /** Links to folders outside their root (`up -> ..`): not followed, or they would pull other trees in. */
  linksOutside: number;
  /** macOS metadata files (AppleDouble `._*`, `.DS_Store`): left out; `._x.png` is not an image. */
  macMetadata: number;
}

/**
 * Every image file under each root, recursively, sorted by path within each root. Links to folders are
 * followed only inside their root, each folder listed once (a link loop ends there).
 */
export async function listImageFiles(root: string | string[]): Promise<ImageListing> {
  const listing: ImageListing = { files: [], linksOutside: 0, macMetadata: 0 };
  for (const folder of sourceRoots(root)) await listFolder(folder, listing);
  return listing;
}

async function listFolder(root: string, listing: ImageListing): Promise<void> {
  const info = await stat(root).catch(() => undefined);
  if (!info) throw new UserError(`data.source.root: the folder ${root} does not exist`);
  if (!info.isDirectory()) throw new UserError(`data.source.root: ${root} is not a folder`);
  const files: string[] = [];
  const base = await realpath(root);
  const inside = (real: string) => {
    const relative = path.relative(base, real);
    return !relative.startsWith('..') && !path.isAbsolute(relative);
  };
  const visited = new Set<string>();
  const walk = async (dir: string): Promise<void> => {
    const real = await realpath(dir);
    if (visited.has(real)) return; // a link to a folder already listed
    visited.add(real);
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.name.startsWith('._') || entry.name === '.DS_Store') listing.macMetadata += 1;
      else if (entry.isDirectory()) await walk(full);
      else if (entry.isSymbolicLink() && (await stat(full).catch(() => undefined))?.isDirectory()) {
        if (inside(await realpath(full))) await walk(full);
        else listing.linksOutside += 1;
      } else if (IMAGE_EXTENSIONS.includes(path.extname(entry.name).toLowerCase())) files.push(full);
    }
  };
  await walk(root);
  if (files.length === 0) {
    throw new UserError(`data.source.root: no images found under ${root} (looked for ${IMAGE_EXTENSIONS.join(', ')}, in sub-folders too)`);
  }
  // Code-unit order, not locale order: the same on every machine.
  listing.files.push(...files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** An image file that sharp cannot decode. */
export class BadImageError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: cannot decode the image (${reason})`);
  }
}

/** The first frame as 8-bit sRGB, with alpha when the file has it. Grey files come out as RGB. */
export async function decodeImage(file: string): Promise<RawImage> {
  // Read here rather than letting sharp open the file: libvips caches opened files by name and could
  // return an old decode of a file that has since changed.
  try {
    const bytes = await readFile(file);
    const { data, info } = await sharp(bytes, { pages: 1, failOn: 'warning' }).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 && info.channels !== 4) throw new Error(`unexpected ${info.channels} channels`);
    return { data, width: info.width, height: info.height, channels: 3, alpha: info.channels === 4 };
  } catch (error) {
    throw new BadImageError(file, (error as Error).message);
  }
}

export interface FolderImages {
  files: string[];
  images: RawImage[];
  skipped: string[];
}

/**
 * Decodes and prepares (`prepare`: the cached transforms) the first `limit` decodable files. With
 * onBadImage 'error' an undecodable file is a UserError; with 'skip' it is left out and the next file taken.
 */
export async function decodeImages(
  files: string[],
  options: { limit?: number; onBadImage: 'error' | 'skip'; prepare: (image: RawImage, file: string) => Promise<RawImage> },
): Promise<FolderImages> {
  const wanted = Math.min(options.limit ?? files.length, files.length);
  const result: FolderImages = { files: [], images: [], skipped: [] };
  let next = 0;
  // Windows of the files still wanted, so skipped files are replaced by the following ones, in order.
  while (result.images.length < wanted && next < files.length) {
    const window = files.slice(next, next + wanted - result.images.length);
    next += window.length;
    const decoded = await mapLimit(window, DECODE_CONCURRENCY, async (file) => {
      try {
        return await options.prepare(await decodeImage(file), file);
      } catch (error) {
        if (error instanceof BadImageError && options.onBadImage === 'skip') return undefined;
        if (error instanceof BadImageError) {
          throw new UserError(`${error.message}; fix or remove it, or set data.onBadImage: skip to leave such files out`);
        }
        throw error;
      }
    });
    decoded.forEach((image, index) => {
      if (image) {
        result.files.push(window[index]);
        result.images.push(image);
      } else {
        result.skipped.push(window[index]);
      }
    });
  }
  return result;
}
