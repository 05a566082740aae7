// Sliced Wasserstein distance between Laplacian-pyramid patch descriptors, the image metric of
// Progressive GAN (Karras et al. 2018, appendix D; their sliced_wasserstein.py): needs no feature
// extractor, so it works for any data. Per pyramid level (finest first; the last level is the Gaussian
// remainder), random 7x7 neighbourhoods are cut out of every image; the descriptors are normalised per
// colour channel by the mean and standard deviation of the *real* set's descriptors at that level (the
// original normalises each set by its own statistics, which hides a brightness or contrast shift); then
// the 1-D Wasserstein-1 distance between the two descriptor sets is averaged over random unit directions.
//
// Values are raw (ProGAN's tables print them x 1e3). Patch positions and directions derive from the seed:
// the i-th image of either set gets the same patch positions, so identical sets give exactly 0.
import * as tf from '@tensorflow/tfjs';
import { deriveSeed, Rng } from '../random/rng.ts';
import type { ImageSet } from './images.ts';
import type { Features } from './linalg.ts';

export interface PatchOptions {
  seed: number;
  /** Side of the square neighbourhoods (default 7). */
  patchSize?: number;
  /**
   * Neighbourhoods cut out of each image per level (default 16; ProGAN: 128 of 16384 images). With 1000
   * Fashion-MNIST images the real-vs-real floor barely moves from 16 (0.025) to 64 (0.021): the number of
   * images, not of patches, sets it; the time grows with the patches.
   */
  patchesPerImage?: number;
  /**
   * The coarsest level kept: levels go down while the smaller image side is at least this (default 8,
   * and never below the patch size). ProGAN uses 16 for its 1024px images; 8 gives 28 and 32px images
   * two levels (28, 14; 32, 16, 8).
   */
  minResolution?: number;
}

export interface SwdOptions {
  seed: number;
  /** Random directions per repeat (default 128). */
  directions?: number;
  /** Repeats with fresh directions (default 4): 512 directions in all, as ProGAN. */
  repeats?: number;
}

/** One level of a Laplacian pyramid of a whole image set, NHWC. */
export interface PyramidLevel {
  height: number;
  width: number;
  channels: number;
  count: number;
  data: Float32Array;
}

/** Descriptors of one pyramid level: rows of channels*patchSize^2 values, channel-major (c, y, x). */
export interface DescriptorLevel extends Features {
  /** Height of the level's images, naming it (r28, r14, ...). */
  resolution: number;
  channels: number;
}

export interface ChannelStats {
  mean: Float64Array;
  std: Float64Array;
}

// The 5-tap binomial filter [1, 4, 6, 4, 1] / 16 of ProGAN's (and Burt and Adelson's) pyramid.
const TAPS = [1 / 16, 4 / 16, 6 / 16, 4 / 16, 1 / 16];

/** scipy.ndimage 'mirror' boundary: reflect about the edge pixels' centres (d c b | a b c d | c b a). */
function mirror(i: number, n: number): number {
  if (n === 1) return 0;
  while (i < 0 || i >= n) {
    if (i < 0) i = -i;
    if (i >= n) i = 2 * (n - 1) - i;
  }
  return i;
}

/** For each coordinate of a side of n pixels, the 5 source coordinates of the filter taps. */
function tapTable(n: number): Int32Array {
  const table = new Int32Array(n * 5);
  for (let i = 0; i < n; i++) for (let t = 0; t < 5; t++) table[i * 5 + t] = mirror(i + t - 2, n);
  return table;
}

/** The separable 5x5 binomial blur of every image and channel, times `gain`. */
function blur(level: PyramidLevel, gain: number): PyramidLevel {
  const { height: h, width: w, channels: c, count } = level;
  const temp = new Float64Array(h * w * c);
  const out = new Float32Array(level.data.length);
  const image = h * w * c;
  const xs = tapTable(w);
  const ys = tapTable(h);
  const [t0, t1, t2, t3, t4] = TAPS;
  const src = level.data;
  for (let n = 0; n < count; n++) {
    const base = n * image;
    // Rows: along x.
    for (let y = 0; y < h; y++) {
      const row = base + y * w * c;
      for (let x = 0; x < w; x++) {
        const x0 = row + xs[x * 5] * c,
          x1 = row + xs[x * 5 + 1] * c,
          x2 = row + xs[x * 5 + 2] * c,
          x3 = row + xs[x * 5 + 3] * c,
          x4 = row + xs[x * 5 + 4] * c;
        const o = (y * w + x) * c;
        for (let ch = 0; ch < c; ch++) temp[o + ch] = t0 * src[x0 + ch] + t1 * src[x1 + ch] + t2 * src[x2 + ch] + t3 * src[x3 + ch] + t4 * src[x4 + ch];
      }
    }
    // Columns: along y.
    for (let y = 0; y < h; y++) {
      const y0 = ys[y * 5] * w * c,
        y1 = ys[y * 5 + 1] * w * c,
        y2 = ys[y * 5 + 2] * w * c,
        y3 = ys[y * 5 + 3] * w * c,
        y4 = ys[y * 5 + 4] * w * c;
      for (let k = 0, o = y * w * c; k < w * c; k++) {
        out[base + o + k] = gain * (t0 * temp[y0 + k] + t1 * temp[y1 + k] + t2 * temp[y2 + k] + t3 * temp[y3 + k] + t4 * temp[y4 + k]);
      }
    }
  }
  return { ...level, data: out };
}

/** Blur, then every second pixel: ceil(h/2) x ceil(w/2). */
function pyramidDown(level: PyramidLevel): PyramidLevel {
  const blurred = blur(level, 1);
  const { height: h, width: w, channels: c, count } = level;
  const h2 = Math.ceil(h / 2);
  const w2 = Math.ceil(w / 2);
  const data = new Float32Array(count * h2 * w2 * c);
  for (let n = 0; n < count; n++) {
    for (let y = 0; y < h2; y++) {
      for (let x = 0; x < w2; x++) {
        for (let ch = 0; ch < c; ch++) data[((n * h2 + y) * w2 + x) * c + ch] = blurred.data[((n * h + 2 * y) * w + 2 * x) * c + ch];
      }
    }
  }
  return { height: h2, width: w2, channels: c, count, data };
}

/** Zeros between the pixels, blur x 4, cropped to height x width. */
function pyramidUp(level: PyramidLevel, height: number, width: number): PyramidLevel {
  const { height: h, width: w, channels: c, count } = level;
  const h2 = 2 * h;
  const w2 = 2 * w;
  const spread = new Float32Array(count * h2 * w2 * c);
  for (let n = 0; n < count; n++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let ch = 0; ch < c; ch++) spread[((n * h2 + 2 * y) * w2 + 2 * x) * c + ch] = level.data[((n * h + y) * w + x) * c + ch];
      }
    }
  }
  const up = blur({ height: h2, width: w2, channels: c, count, data: spread }, 4);
  if (h2 === height && w2 === width) return up;
  const data = new Float32Array(count * height * width * c);
  for (let n = 0; n < count; n++) {
    for (let y = 0; y < height; y++) {
      const from = (n * h2 + y) * w2 * c;
      data.set(up.data.subarray(from, from + width * c), (n * height + y) * width * c);
    }
  }
  return { height, width, channels: c, count, data };
}

/** The Laplacian pyramid, finest level first; the last level is the Gaussian level at the coarsest size kept. */
export function laplacianPyramid(images: ImageSet, minSide: number): PyramidLevel[] {
  const gaussian: PyramidLevel[] = [{ height: images.height, width: images.width, channels: images.channels, count: images.count, data: images.data }];
  if (Math.min(images.height, images.width) < minSide) {
    throw new RangeError(`images of ${images.height}x${images.width} are smaller than the ${minSide}px that the patch descriptors need`);
  }
  for (;;) {
    const last = gaussian[gaussian.length - 1];
    const next = { height: Math.ceil(last.height / 2), width: Math.ceil(last.width / 2) };
    if (Math.min(next.height, next.width) < minSide || Math.min(last.height, last.width) < 2) break;
    gaussian.push(pyramidDown(last));
  }
  return gaussian.map((level, i) => {
    if (i === gaussian.length - 1) return level;
    const up = pyramidUp(gaussian[i + 1], level.height, level.width);
    const data = new Float32Array(level.data.length);
    for (let k = 0; k < data.length; k++) data[k] = level.data[k] - up.data[k];
    return { ...level, data };
  });
}

/** Raw (unnormalised) descriptors of every level, patchesPerImage random neighbourhoods per image. */
export function patchDescriptors(images: ImageSet, opts: PatchOptions): DescriptorLevel[] {
  const size = opts.patchSize ?? 7;
  const perImage = opts.patchesPerImage ?? 16;
  const minSide = Math.max(opts.minResolution ?? 8, size);
  return laplacianPyramid(images, minSide).map((level, index) => {
    const { height: h, width: w, channels: c, count } = level;
    const dim = c * size * size;
    const data = new Float32Array(count * perImage * dim);
    const rng = new Rng(deriveSeed(opts.seed, `swd/patches/${index}`));
    let row = 0;
    for (let n = 0; n < count; n++) {
      for (let p = 0; p < perImage; p++, row++) {
        const top = rng.int(h - size + 1);
        const left = rng.int(w - size + 1);
        let o = row * dim;
        for (let ch = 0; ch < c; ch++) {
          for (let y = 0; y < size; y++) {
            const base = ((n * h + top + y) * w + left) * c + ch;
            for (let x = 0; x < size; x++) data[o++] = level.data[base + x * c];
          }
        }
      }
    }
    return { resolution: h, channels: c, count: count * perImage, dim, data };
  });
}

/** Per channel mean and standard deviation (population) of one level's descriptors, in Float64. */
export function descriptorStats(level: DescriptorLevel): ChannelStats {
  const { channels: c, dim, count, data } = level;
  const per = dim / c;
  const mean = new Float64Array(c);
  const std = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    let sum = 0;
    for (let r = 0; r < count; r++) for (let k = ch * per, end = k + per, base = r * dim; k < end; k++) sum += data[base + k];
    const m = sum / (count * per);
    let squares = 0;
    for (let r = 0; r < count; r++) {
      for (let k = ch * per, end = k + per, base = r * dim; k < end; k++) squares += (data[base + k] - m) ** 2;
    }
    mean[ch] = m;
    std[ch] = Math.sqrt(squares / (count * per));
  }
  return { mean, std };
}

/** (value - mean) / std per channel, with another set's statistics (a channel without spread is only centred). */
export function normalizeDescriptors(level: DescriptorLevel, stats: ChannelStats): DescriptorLevel {
  const { channels: c, dim, count } = level;
  const per = dim / c;
  const data = new Float32Array(level.data.length);
  for (let r = 0; r < count; r++) {
    for (let ch = 0; ch < c; ch++) {
      const m = stats.mean[ch];
      const s = stats.std[ch] > 0 ? stats.std[ch] : 1;
      for (let k = ch * per, end = k + per, base = r * dim; k < end; k++) data[base + k] = (level.data[base + k] - m) / s;
    }
  }
  return { ...level, data };
}

/** `count` rows of `set`, drawn without replacement (seeded); the set itself when it has no more. */
export function subsampleRows<T extends Features>(set: T, count: number, seed: number, label: string): T {
  if (set.count <= count) return set;
  const order = new Rng(deriveSeed(seed, label)).permutation(set.count).subarray(0, count);
  const data = new Float32Array(count * set.dim);
  for (let i = 0; i < count; i++) data.set(set.data.subarray(order[i] * set.dim, (order[i] + 1) * set.dim), i * set.dim);
  return { ...set, count, data };
}

/**
 * Sliced Wasserstein-1 distance between two equally large sets of rows: the mean over random unit
 * directions of the mean absolute difference between the sorted projections. Projection and sorting run
 * on the active TF.js backend (float32); the average over directions in Float64.
 */
export async function slicedWasserstein(a: Features, b: Features, opts: SwdOptions): Promise<number> {
  if (a.dim !== b.dim) throw new RangeError(`descriptor dimensions differ: ${a.dim} and ${b.dim}`);
  if (a.count !== b.count) throw new RangeError(`the sliced Wasserstein distance here needs equally many rows (${a.count} and ${b.count}): subsample first`);
  const directions = opts.directions ?? 128;
  const repeats = opts.repeats ?? 4;
  const dim = a.dim;
  const n = a.count;
  const rng = new Rng(deriveSeed(opts.seed, 'swd/directions'));
  // Projection by matMul on the active backend; sorting by tf.topk there, or by the typed-array sort on cpu.
  const ta = tf.tensor2d(a.data instanceof Float32Array ? a.data : Float32Array.from(a.data), [n, dim]);
  const tb = tf.tensor2d(b.data instanceof Float32Array ? b.data : Float32Array.from(b.data), [n, dim]);
  let total = 0;
  try {
    for (let r = 0; r < repeats; r++) {
      // dim x directions, each column a unit vector (normalised in Float64).
      const raw = Float64Array.from({ length: dim * directions }, () => rng.normal());
      const dirs = new Float32Array(dim * directions);
      for (let j = 0; j < directions; j++) {
        let norm = 0;
        for (let k = 0; k < dim; k++) norm += raw[k * directions + j] ** 2;
        norm = Math.sqrt(norm);
        for (let k = 0; k < dim; k++) dirs[k * directions + j] = raw[k * directions + j] / norm;
      }
      const d = tf.tensor2d(dirs, [dim, directions]);
      try {
        total += tf.getBackend() === 'cpu' ? await sortedDistanceJs(ta, tb, d) : await sortedDistanceTf(ta, tb, d);
      } finally {
        d.dispose();
      }
    }
  } finally {
    tf.dispose([ta, tb]);
  }
  return total / repeats;
}

/** Mean over directions of the mean |sorted projection of a - sorted projection of b|, sorted by tf.topk (native backends). */
async function sortedDistanceTf(a: tf.Tensor2D, b: tf.Tensor2D, directions: tf.Tensor2D): Promise<number> {
  const n = a.shape[0];
  const perDirection = tf.tidy(() => {
    const sorted = (set: tf.Tensor2D) => tf.topk(tf.transpose(tf.matMul(set, directions)), n, true).values;
    return tf.mean(tf.abs(tf.sub(sorted(a), sorted(b))), 1);
  });
  const values = await perDirection.data();
  perDirection.dispose();
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

/** The same with the typed-array sort: the cpu backend's topk is many times slower. */
async function sortedDistanceJs(a: tf.Tensor2D, b: tf.Tensor2D, directions: tf.Tensor2D): Promise<number> {
  const n = a.shape[0];
  const count = directions.shape[1];
  const columns = async (set: tf.Tensor2D): Promise<Float32Array> => {
    const projected = tf.matMul(set, directions);
    const rows = (await projected.data()) as Float32Array;
    projected.dispose();
    const out = new Float32Array(n * count);
    for (let i = 0; i < n; i++) for (let j = 0; j < count; j++) out[j * n + i] = rows[i * count + j];
    for (let j = 0; j < count; j++) out.subarray(j * n, (j + 1) * n).sort();
    return out;
  };
  const pa = await columns(a);
  const pb = await columns(b);
  let sum = 0;
  for (let j = 0; j < count; j++) {
    let column = 0;
    for (let i = j * n, end = i + n; i < end; i++) column += Math.abs(pa[i] - pb[i]);
    sum += column / n;
  }
  return sum / count;
}

export interface SwdResult {
  /** Per level, finest first. */
  levels: { resolution: number; swd: number }[];
  average: number;
}

/** Patch SWD of `other` against `real` (normalised by the real descriptors' statistics), per level and averaged. */
export async function patchSwd(real: ImageSet, other: ImageSet, opts: PatchOptions & Omit<SwdOptions, 'seed'>): Promise<SwdResult> {
  const realLevels = patchDescriptors(real, opts);
  const otherLevels = patchDescriptors(other, opts);
  return swdOfDescriptors(realLevels, otherLevels, opts);
}

/** The SWD of descriptor levels (raw, from patchDescriptors) of another set against a real set's. */
export async function swdOfDescriptors(realLevels: DescriptorLevel[], otherLevels: DescriptorLevel[], opts: SwdOptions): Promise<SwdResult> {
  if (realLevels.length !== otherLevels.length) throw new RangeError('the two image sets have pyramids of different depth: compare images of one size');
  const levels: SwdResult['levels'] = [];
  for (let i = 0; i < realLevels.length; i++) {
    const stats = descriptorStats(realLevels[i]);
    const count = Math.min(realLevels[i].count, otherLevels[i].count);
    const a = subsampleRows(normalizeDescriptors(realLevels[i], stats), count, opts.seed, `swd/subsample/real/${i}`);
    const b = subsampleRows(normalizeDescriptors(otherLevels[i], stats), count, opts.seed, `swd/subsample/other/${i}`);
    levels.push({ resolution: realLevels[i].resolution, swd: await slicedWasserstein(a, b, { ...opts, seed: deriveSeed(opts.seed, `swd/level/${i}`) }) });
  }
  return { levels, average: levels.reduce((sum, level) => sum + level.swd, 0) / levels.length };
}
