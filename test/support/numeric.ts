import assert from 'node:assert/strict';
import { Rng } from '../../src/random/rng.ts';

/** `n` seeded standard normals times `scale`. */
export const normals = (n: number, seed: number, scale = 1): Float32Array => new Rng(seed).normals(n, 0, scale);

export const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** The largest absolute difference over the largest magnitude of `expected` (elementwise ratios blow up near 0). */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length, 'element counts differ');
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff === 0 ? 0 : diff / Math.max(scale, 1e-30);
}
