// MNIST-style IDX files: IDX3 uint8 images (magic 2051) and IDX1 uint8 labels (magic 2049), gzip'd or raw.
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { IdxSource } from '../config/experiment.generated.ts';
import { UserError } from '../errors.ts';

const IMAGES_MAGIC = 2051;
const LABELS_MAGIC = 2049;

export interface IdxImages {
  count: number;
  height: number;
  width: number;
  pixels: Uint8Array;
  labels?: Uint8Array;
  /** The label ids that data.source.classes asked for but that no image has. */
  missingClasses: number[];
}

/** The images (and labels) of an IDX source, filtered to `classes`, then the first `limit`. */
export async function readIdx(source: IdxSource, limit?: number): Promise<IdxImages> {
  if (source.classes && !source.labels) {
    throw new UserError('data.source.classes needs data.source.labels: the IDX1 label file that says which class each image is');
  }
  const images = await readIdxFile(source.images, 'images');
  const [magic, count, height, width] = header(images, 4);
  checkMagic(source.images, 'images', magic, IMAGES_MAGIC);
  checkLength(source.images, images, 16, count * height * width, `${count} images of ${height}x${width}`);
  if (count === 0) throw new UserError(`data.source.images: ${source.images} holds no images (its header says 0): there is nothing to train on`);
  if (height === 0 || width === 0) {
    throw new UserError(`data.source.images: ${source.images} holds images of ${height}x${width} pixels (says its header): an image needs at least one pixel`);
  }
  const pixels = images.subarray(16, 16 + count * height * width);

  let labels: Uint8Array | undefined;
  if (source.labels) {
    const file = await readIdxFile(source.labels, 'labels');
    const [labelMagic, labelCount] = header(file, 2);
    checkMagic(source.labels, 'labels', labelMagic, LABELS_MAGIC);
    checkLength(source.labels, file, 8, labelCount, `${labelCount} labels`);
    if (labelCount !== count) {
      throw new UserError(
        `data.source.labels: ${source.labels} has ${labelCount} labels but ${source.images} has ${count} images: ` +
          'they must be the labels of exactly those images',
      );
    }
    labels = file.subarray(8, 8 + labelCount);
  }

  let keep = Array.from({ length: count }, (_, index) => index);
  let missingClasses: number[] = [];
  if (source.classes && labels) {
    const wanted = new Set(source.classes);
    const all = labels;
    keep = keep.filter((index) => wanted.has(all[index]));
    const present = new Set(keep.map((index) => all[index]));
    missingClasses = source.classes.filter((id) => !present.has(id));
    if (keep.length === 0) {
      const ids = [...new Set(all)].sort((a, b) => a - b);
      throw new UserError(
        `data.source.classes [${source.classes.join(', ')}] matches none of the ${count} labels in ${source.labels} ` +
          `(the label ids there are ${ids.join(', ')})`,
      );
    }
  }
  if (limit !== undefined) keep = keep.slice(0, limit);

  const size = height * width;
  if (keep.length === count) return { count, height, width, pixels: pixels.slice(), labels: labels?.slice(), missingClasses };
  const out = new Uint8Array(keep.length * size);
  keep.forEach((index, at) => out.set(pixels.subarray(index * size, (index + 1) * size), at * size));
  return { count: keep.length, height, width, pixels: out, labels: labels && Uint8Array.from(keep, (index) => labels[index]), missingClasses };
}

/** The file's bytes, gunzipped when they start with the gzip magic (whatever the file is called). */
async function readIdxFile(file: string, key: 'images' | 'labels'): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(error as Error).message})`;
    throw new UserError(`data.source.${key}: the file ${file} ${reason}`);
  }
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    return await promisify(gunzip)(bytes);
  } catch (error) {
    throw new UserError(`data.source.${key}: ${file} is a damaged gzip file (${(error as Error).message})`);
  }
}

function header(bytes: Uint8Array, words: number): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: words }, (_, i) => (bytes.byteLength >= (i + 1) * 4 ? view.getUint32(i * 4, false) : -1));
}

function checkMagic(file: string, key: 'images' | 'labels', magic: number, expected: number): void {
  if (magic === expected) return;
  const hint =
    magic === (expected === IMAGES_MAGIC ? LABELS_MAGIC : IMAGES_MAGIC)
      ? ` (${magic} is the magic of an IDX ${key === 'images' ? 'label' : 'image'} file: are images and labels swapped?)`
      : magic === -1
        ? ' (the file is shorter than its header)'
        : ' (this is not an IDX file of uint8 values)';
  throw new UserError(`data.source.${key}: ${file} does not start with the IDX magic number ${expected} but with ${magic}${hint}`);
}

function checkLength(file: string, bytes: Uint8Array, headerBytes: number, dataBytes: number, what: string): void {
  if (bytes.byteLength < headerBytes) {
    throw new UserError(`${file} is truncated: it has ${bytes.byteLength} bytes, less than its ${headerBytes}-byte header`);
  }
  if (bytes.byteLength >= headerBytes + dataBytes) return;
  throw new UserError(`${file} is truncated: its header promises ${what} (${headerBytes + dataBytes} bytes) but it has ${bytes.byteLength} bytes`);
}
