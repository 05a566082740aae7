import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { kernelInceptionDistance, mmd2Unbiased, polynomialKernel } from '../src/eval/kid.ts';
import type { Features } from '../src/eval/linalg.ts';
import { Rng } from '../src/random/rng.ts';

function gaussian(rng: Rng, count: number, dim: number, shift = 0, scale = 1): Features {
  return { count, dim, data: Float64Array.from({ length: count * dim }, () => shift + scale * rng.normal()) };
}

/** The biased (V-statistic) MMD^2, diagonals included: positive in expectation even for one distribution. */
function mmd2Biased(x: Features, y: Features): number {
  const d = x.dim;
  const mean = (a: Features, b: Features) => {
    let sum = 0;
    for (let i = 0; i < a.count; i++) for (let j = 0; j < b.count; j++) sum += polynomialKernel(a.data, i * d, b.data, j * d, d);
    return sum / (a.count * b.count);
  };
  return mean(x, x) + mean(y, y) - 2 * mean(x, y);
}

describe('kernel inception distance', () => {
  test('the kernel is (x.y / d + 1)^3', () => {
    const x = [1, 2, 3, 4];
    const y = [0.5, -1, 2, 0];
    const dot = 0.5 - 2 + 6;
    assert.ok(Math.abs(polynomialKernel(x, 0, y, 0, 4) - (dot / 4 + 1) ** 3) < 1e-15);
  });

  test('is unbiased: over independent replications of two samples of one distribution it averages to 0', () => {
    const rng = new Rng(11);
    const replications = 400;
    const unbiased: number[] = [];
    const biased: number[] = [];
    for (let r = 0; r < replications; r++) {
      const x = gaussian(rng, 30, 8);
      const y = gaussian(rng, 30, 8);
      unbiased.push(mmd2Unbiased(x, y));
      biased.push(mmd2Biased(x, y));
    }
    const stats = (values: number[]) => {
      const mean = values.reduce((s, v) => s + v, 0) / values.length;
      const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1));
      return { mean, stderr: sd / Math.sqrt(values.length) };
    };
    const u = stats(unbiased);
    const b = stats(biased);
    assert.ok(Math.abs(u.mean) < 3 * u.stderr, `unbiased mean ${u.mean} +- ${u.stderr}`);
    assert.ok(
      unbiased.some((value) => value < 0),
      'single unbiased estimates can be negative',
    );
    // The biased estimator, on the same samples, is far above 0: the test can tell.
    assert.ok(b.mean > 10 * b.stderr, `biased mean ${b.mean} +- ${b.stderr}`);
  });

  test('two large samples of one distribution: the subset mean is ~0 within 3 standard errors', () => {
    const rng = new Rng(12);
    const x = gaussian(rng, 2000, 16);
    const y = gaussian(rng, 2000, 16);
    const kid = kernelInceptionDistance(x, y, { subsetSize: 100, subsets: 200, seed: 1 });
    // Subsets of 100 of 2000 overlap little, so the std of the mean is about std / sqrt(subsets).
    assert.ok(Math.abs(kid.mean) < (3 * kid.std) / Math.sqrt(kid.subsets), `${kid.mean} +- ${kid.std}`);
    const shifted = kernelInceptionDistance(x, gaussian(rng, 2000, 16, 0.3), { subsetSize: 100, subsets: 200, seed: 1 });
    assert.ok(shifted.mean > 20 * Math.abs(kid.mean) && shifted.mean > (10 * shifted.std) / Math.sqrt(shifted.subsets), `shifted ${shifted.mean}`);
  });

  test('identical sets give ~0, far below a shifted or rescaled set', () => {
    const rng = new Rng(13);
    const x = gaussian(rng, 1000, 32);
    const same = kernelInceptionDistance(x, x, { subsetSize: 200, subsets: 50, seed: 2 });
    const shifted = kernelInceptionDistance(x, gaussian(rng, 1000, 32, 0.5), { subsetSize: 200, subsets: 50, seed: 2 });
    const wider = kernelInceptionDistance(x, gaussian(rng, 1000, 32, 0, 2), { subsetSize: 200, subsets: 50, seed: 2 });
    assert.ok(Math.abs(same.mean) < 0.02 * shifted.mean, `same ${same.mean}, shifted ${shifted.mean}`);
    assert.ok(Math.abs(same.mean) < 0.02 * wider.mean, `same ${same.mean}, wider ${wider.mean}`);
    // Slightly negative, as expected: both subsets come from one pool of N, so a pair (x_i, y_j) is the same
    // point with probability 1/N, which the unbiased estimate's within-set sums exclude. In expectation the
    // estimate is (2/N)(mean off-diagonal kernel - mean diagonal kernel).
    let diagonal = 0;
    let offDiagonal = 0;
    for (let i = 0; i < x.count; i++) {
      for (let j = 0; j < x.count; j++) {
        const value = polynomialKernel(x.data, i * x.dim, x.data, j * x.dim, x.dim);
        if (i === j) diagonal += value / x.count;
        else offDiagonal += value / (x.count * (x.count - 1));
      }
    }
    const expected = (2 / x.count) * (offDiagonal - diagonal);
    assert.ok(
      Math.abs(same.mean - expected) < (3 * same.std) / Math.sqrt(same.subsets),
      `same ${same.mean}, expected ${expected} +- ${same.std / Math.sqrt(same.subsets)}`,
    );
  });

  test('a subset of everything is the whole-set estimate; precomputed and direct kernels agree; seeded', () => {
    const rng = new Rng(14);
    const x = gaussian(rng, 60, 5);
    const y = gaussian(rng, 60, 5, 0.2);
    const whole = kernelInceptionDistance(x, y, { subsetSize: 60, subsets: 1, seed: 3 }); // direct kernels
    assert.ok(Math.abs(whole.mean - mmd2Unbiased(x, y)) < 1e-12);
    assert.equal(whole.std, 0);
    const direct = kernelInceptionDistance(x, y, { subsetSize: 20, subsets: 2, seed: 4 }); // 2 * 3 * 400 < 3 * 3600: direct
    const precomputed = kernelInceptionDistance(x, y, { subsetSize: 20, subsets: 50, seed: 4 }); // precomputed
    assert.ok(Math.abs(direct.values[0] - precomputed.values[0]) < 1e-12 && Math.abs(direct.values[1] - precomputed.values[1]) < 1e-12);
    assert.deepEqual(kernelInceptionDistance(x, y, { subsetSize: 20, subsets: 50, seed: 4 }).values, precomputed.values);
    assert.notDeepEqual(kernelInceptionDistance(x, y, { subsetSize: 20, subsets: 50, seed: 5 }).values, precomputed.values);
    assert.throws(() => kernelInceptionDistance(x, y, { subsetSize: 61 }), /subset size/);
  });
});
