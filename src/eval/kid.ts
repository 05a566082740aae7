// Kernel Inception Distance (Binkowski et al. 2018): the unbiased estimate of the squared maximum mean
// discrepancy between two feature sets under the cubic polynomial kernel k(x, y) = (x.y / d + 1)^3,
// averaged over random subsets (drawn without replacement, seeded) as torch-fidelity and the paper's code
// do. Unlike FD it is unbiased, so two samples of one distribution average ~0 and single values can be
// slightly negative.
import { deriveSeed, Rng } from '../random/rng.ts';
import type { Features } from './linalg.ts';

export interface KidOptions {
  /** Images per subset from each set (default min(1000, both counts)). */
  subsetSize?: number;
  /** Number of subsets (default 100). */
  subsets?: number;
  seed?: number;
}

export interface KidResult {
  /** Mean of the subsets' unbiased MMD^2. */
  mean: number;
  /** Their standard deviation (population, numpy's np.std, as torch-fidelity reports it). */
  std: number;
  subsetSize: number;
  subsets: number;
  values: Float64Array;
}

/** Kernel matrices of this many entries in all are computed once and shared by the subsets. */
const PRECOMPUTE_LIMIT = 16_000_000;

/** The cubic polynomial kernel of KID. */
export function polynomialKernel(a: ArrayLike<number>, aOffset: number, b: ArrayLike<number>, bOffset: number, dim: number): number {
  let dot = 0;
  for (let k = 0; k < dim; k++) dot += a[aOffset + k] * b[bOffset + k];
  const base = dot / dim + 1;
  return base * base * base;
}

/** Unbiased MMD^2 between the rows xRows of x and yRows of y (kernel values from `kxx`, `kyy`, `kxy`). */
function mmd2(
  m: number,
  n: number,
  kxx: (i: number, j: number) => number,
  kyy: (i: number, j: number) => number,
  kxy: (i: number, j: number) => number,
): number {
  let sumXX = 0;
  for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) sumXX += kxx(i, j);
  let sumYY = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) sumYY += kyy(i, j);
  let sumXY = 0;
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) sumXY += kxy(i, j);
  return (2 * sumXX) / (m * (m - 1)) + (2 * sumYY) / (n * (n - 1)) - (2 * sumXY) / (m * n);
}

/** The unbiased MMD^2 of the whole sets (sizes may differ; at least 2 rows each). */
export function mmd2Unbiased(x: Features, y: Features): number {
  checkSets(x, y);
  const d = x.dim;
  return mmd2(
    x.count,
    y.count,
    (i, j) => polynomialKernel(x.data, i * d, x.data, j * d, d),
    (i, j) => polynomialKernel(y.data, i * d, y.data, j * d, d),
    (i, j) => polynomialKernel(x.data, i * d, y.data, j * d, d),
  );
}

export function kernelInceptionDistance(x: Features, y: Features, opts: KidOptions = {}): KidResult {
  checkSets(x, y);
  const subsetSize = opts.subsetSize ?? Math.min(1000, x.count, y.count);
  const subsets = opts.subsets ?? 100;
  if (!Number.isInteger(subsetSize) || subsetSize < 2 || subsetSize > x.count || subsetSize > y.count) {
    throw new RangeError(`KID subset size ${subsetSize} must be an integer from 2 to the smaller set's size (${Math.min(x.count, y.count)})`);
  }
  if (!Number.isInteger(subsets) || subsets < 1) throw new RangeError(`KID needs at least one subset, not ${subsets}`);
  const d = x.dim;
  const rng = new Rng(deriveSeed(opts.seed ?? 0, 'kid/subsets'));

  // With the full kernel matrices at hand a subset is only look-ups; without, each subset computes its own.
  const entries = x.count * x.count + y.count * y.count + x.count * y.count;
  const pre = entries <= PRECOMPUTE_LIMIT && subsets * subsetSize * subsetSize * 3 > entries ? precompute(x, y) : undefined;

  const values = new Float64Array(subsets);
  for (let s = 0; s < subsets; s++) {
    const ix = sample(rng, x.count, subsetSize);
    const iy = sample(rng, y.count, subsetSize);
    values[s] = pre
      ? mmd2(
          subsetSize,
          subsetSize,
          (i, j) => pre.kxx[ix[i] * x.count + ix[j]],
          (i, j) => pre.kyy[iy[i] * y.count + iy[j]],
          (i, j) => pre.kxy[ix[i] * y.count + iy[j]],
        )
      : mmd2(
          subsetSize,
          subsetSize,
          (i, j) => polynomialKernel(x.data, ix[i] * d, x.data, ix[j] * d, d),
          (i, j) => polynomialKernel(y.data, iy[i] * d, y.data, iy[j] * d, d),
          (i, j) => polynomialKernel(x.data, ix[i] * d, y.data, iy[j] * d, d),
        );
  }
  let mean = 0;
  for (const value of values) mean += value;
  mean /= subsets;
  let variance = 0;
  for (const value of values) variance += (value - mean) ** 2;
  return { mean, std: Math.sqrt(variance / subsets), subsetSize, subsets, values };
}

function checkSets(x: Features, y: Features): void {
  if (x.dim !== y.dim) throw new RangeError(`feature dimensions differ: ${x.dim} and ${y.dim}`);
  if (x.count < 2 || y.count < 2) throw new RangeError(`MMD needs at least 2 samples per set (got ${x.count} and ${y.count})`);
}

/** `size` distinct indices of 0..n-1 (a partial Fisher-Yates shuffle). */
function sample(rng: Rng, n: number, size: number): Uint32Array {
  const pool = new Uint32Array(n);
  for (let i = 0; i < n; i++) pool[i] = i;
  for (let i = 0; i < size; i++) {
    const j = i + rng.int(n - i);
    const swap = pool[i];
    pool[i] = pool[j];
    pool[j] = swap;
  }
  return pool.slice(0, size);
}

function precompute(x: Features, y: Features): { kxx: Float64Array; kyy: Float64Array; kxy: Float64Array } {
  const d = x.dim;
  const gram = (a: Features, b: Features, symmetric: boolean): Float64Array => {
    const out = new Float64Array(a.count * b.count);
    for (let i = 0; i < a.count; i++) {
      for (let j = symmetric ? i : 0; j < b.count; j++) {
        const value = polynomialKernel(a.data, i * d, b.data, j * d, d);
        out[i * b.count + j] = value;
        if (symmetric) out[j * b.count + i] = value;
      }
    }
    return out;
  };
  return { kxx: gram(x, x, true), kyy: gram(y, y, true), kxy: gram(x, y, false) };
}
