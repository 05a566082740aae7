import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { featureStats, frechetDistance, frechetFromStats } from '../src/eval/frechet.ts';
import { features, matMul, meanAndCovariance, selectRows, sqrtPsd, symmetricEigen, trace, traceSqrtProduct } from '../src/eval/linalg.ts';
import { type Classified, perClassFrechet } from '../src/eval/per-class.ts';
import { Rng } from '../src/random/rng.ts';

/** A random SPD matrix X X^T / m + shift I. */
function randomSpd(rng: Rng, d: number, shift = 0.1): Float64Array {
  const m = 2 * d;
  const x = Float64Array.from({ length: d * m }, () => rng.normal());
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let sum = 0;
      for (let k = 0; k < m; k++) sum += x[i * m + k] * x[j * m + k];
      out[i * d + j] = sum / m + (i === j ? shift : 0);
    }
  }
  return out;
}

/** A Householder reflection I - 2 v v^T / |v|^2: orthogonal, symmetric, exactly known. */
function householder(rng: Rng, d: number): Float64Array {
  const v = Float64Array.from({ length: d }, () => rng.normal());
  const norm = v.reduce((sum, value) => sum + value * value, 0);
  const q = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) q[i * d + j] = (i === j ? 1 : 0) - (2 * v[i] * v[j]) / norm;
  return q;
}

function transpose(a: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out[j * d + i] = a[i * d + j];
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

/** Samples of N(mean, L L^T): rows mean + L z. */
function gaussianSamples(rng: Rng, n: number, mean: number[], chol: number[][]): Float64Array {
  const d = mean.length;
  const out = new Float64Array(n * d);
  const z = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) z[k] = rng.normal();
    for (let r = 0; r < d; r++) {
      let value = mean[r];
      for (let k = 0; k <= r; k++) value += chol[r][k] * z[k];
      out[i * d + r] = value;
    }
  }
  return out;
}

describe('linear algebra', () => {
  test('the Jacobi eigen-solver reconstructs a random symmetric matrix (d = 64)', () => {
    const d = 64;
    const a = randomSpd(new Rng(1), d);
    const { values, vectors } = symmetricEigen(a, d);
    // A V = V diag(values), V orthonormal, values ascending.
    const av = matMul(a, vectors, d);
    const vl = Float64Array.from(vectors, (value, index) => value * values[index % d]);
    assert.ok(maxAbsDiff(av, vl) < 1e-12, `|AV - VL| = ${maxAbsDiff(av, vl)}`);
    const vtv = matMul(transpose(vectors, d), vectors, d);
    const identity = Float64Array.from({ length: d * d }, (_, i) => (i % (d + 1) === 0 ? 1 : 0));
    assert.ok(maxAbsDiff(vtv, identity) < 1e-13);
    for (let i = 1; i < d; i++) assert.ok(values[i] >= values[i - 1]);
    assert.ok(Math.abs(values.reduce((s, v) => s + v, 0) - trace(a, d)) < 1e-11);
  });

  test('the square root of [[2, 1], [1, 2]] is ((sqrt 3 + 1)/2, (sqrt 3 - 1)/2) on and off the diagonal', () => {
    const root = sqrtPsd(Float64Array.from([2, 1, 1, 2]), 2);
    const on = (Math.sqrt(3) + 1) / 2;
    const off = (Math.sqrt(3) - 1) / 2;
    assert.ok(maxAbsDiff(root, [on, off, off, on]) < 1e-15, `${root}`);
  });

  test('the square root of a random non-diagonal SPD matrix squares back to it (d = 50)', () => {
    const d = 50;
    const a = randomSpd(new Rng(2), d);
    const root = sqrtPsd(a, d);
    assert.ok(maxAbsDiff(matMul(root, root, d), a) < 1e-12);
    assert.ok(maxAbsDiff(root, transpose(root, d)) === 0, 'symmetric');
    assert.ok(symmetricEigen(root, d).values[0] > 0, 'positive definite');
  });

  test('Tr((A B)^(1/2)) of non-commuting 2x2 matrices: sqrt(tr(AB) + 2 sqrt(det(AB)))', () => {
    // A = [[2, 1], [1, 2]], B = diag(1, 3): AB = [[2, 3], [1, 6]], trace 8, determinant 9.
    const a = Float64Array.from([2, 1, 1, 2]);
    const b = Float64Array.from([1, 0, 0, 3]);
    assert.ok(Math.abs(traceSqrtProduct(a, b, 2) - Math.sqrt(14)) < 1e-14);
    assert.ok(Math.abs(traceSqrtProduct(b, a, 2) - Math.sqrt(14)) < 1e-14);
  });

  test('Tr((A B)^(1/2)) of commuting non-diagonal matrices Q D1 Q^T, Q D2 Q^T is sum sqrt(d1 d2) (d = 32)', () => {
    const d = 32;
    const rng = new Rng(3);
    const q = householder(rng, d);
    const d1 = Float64Array.from({ length: d }, () => 0.1 + 3 * rng.next());
    const d2 = Float64Array.from({ length: d }, (_, i) => (i < 4 ? 0 : 0.1 + 3 * rng.next())); // singular B
    const build = (diag: Float64Array) =>
      matMul(
        matMul(
          q,
          Float64Array.from({ length: d * d }, (_, i) => (i % (d + 1) === 0 ? diag[i / (d + 1)] : 0)),
          d,
        ),
        q,
        d,
      );
    const expected = d1.reduce((sum, value, i) => sum + Math.sqrt(value * d2[i]), 0);
    // B's zero eigenvalues come out as +-1e-16 round-off, whose square roots (1e-8) bound the accuracy.
    assert.ok(Math.abs(traceSqrtProduct(build(d1), build(d2), d) - expected) < 1e-7);
    assert.ok(Math.abs(traceSqrtProduct(build(d2), build(d1), d) - expected) < 1e-7);
    const full = Float64Array.from(d2, (value) => value || 0.5);
    const expectedFull = d1.reduce((sum, value, i) => sum + Math.sqrt(value * full[i]), 0);
    assert.ok(Math.abs(traceSqrtProduct(build(d1), build(full), d) - expectedFull) < 1e-11);
  });

  test('mean and covariance match the textbook formulas, in Float64 even for large offsets', () => {
    // Values around 1e6 with unit spread: a one-pass E[x^2] - E[x]^2 in float32 would lose everything.
    const data = Float64Array.from([1e6 + 1, 1e6 + 2, 1e6 + 3, 1e6 + 5, 1e6 + 2, 1e6 + 1]); // 3 rows of 2
    const { mean, cov } = meanAndCovariance({ count: 3, dim: 2, data });
    assert.ok(maxAbsDiff(mean, [1e6 + 2, 1e6 + 8 / 3]) < 1e-9);
    // x: 1, 3, 2 (mean 2); y: 2, 5, 1 (mean 8/3); unbiased (n - 1).
    const cxx = ((1 - 2) ** 2 + (3 - 2) ** 2 + (2 - 2) ** 2) / 2;
    const cxy = ((1 - 2) * (2 - 8 / 3) + (3 - 2) * (5 - 8 / 3) + 0) / 2;
    const cyy = ((2 - 8 / 3) ** 2 + (5 - 8 / 3) ** 2 + (1 - 8 / 3) ** 2) / 2;
    assert.ok(maxAbsDiff(cov, [cxx, cxy, cxy, cyy]) < 1e-9, `${cov}`);
  });
});

describe('Frechet distance', () => {
  test('identical feature sets are at distance ~0', () => {
    const rng = new Rng(4);
    const d = 128;
    const data = new Float32Array(2000 * d);
    for (let i = 0; i < data.length; i++) data[i] = Math.max(0, rng.normal() + (i % d) / d); // ReLU-like features
    const set = { count: 2000, dim: d, data };
    const fd = frechetDistance(set, set);
    assert.ok(fd >= 0 && fd < 1e-9, `FD(x, x) = ${fd}`);
    const copy = { count: 2000, dim: d, data: Float32Array.from(data) };
    assert.ok(frechetDistance(set, copy) < 1e-9);
  });

  test('with exact statistics it is the closed form, for diagonal and for non-commuting covariances', () => {
    const diag = { count: 0, dim: 3, mean: Float64Array.from([0, 1, 2]), cov: Float64Array.from([4, 0, 0, 0, 1, 0, 0, 0, 9]) };
    const diag2 = { count: 0, dim: 3, mean: Float64Array.from([1, 1, 0]), cov: Float64Array.from([1, 0, 0, 0, 1, 0, 0, 0, 4]) };
    // ||mu1 - mu2||^2 = 1 + 0 + 4; sum (s1 - s2)^2 = (2 - 1)^2 + 0 + (3 - 2)^2.
    assert.ok(Math.abs(frechetFromStats(diag, diag2).distance - 7) < 1e-13);
    const a = { count: 0, dim: 2, mean: Float64Array.from([0, 0]), cov: Float64Array.from([2, 1, 1, 2]) };
    const b = { count: 0, dim: 2, mean: Float64Array.from([1, 0]), cov: Float64Array.from([1, 0, 0, 3]) };
    const expected = 1 + 4 + 4 - 2 * Math.sqrt(14);
    assert.ok(Math.abs(frechetFromStats(a, b).distance - expected) < 1e-13);
    assert.ok(Math.abs(frechetFromStats(b, a).distance - expected) < 1e-13, 'symmetric');
  });

  test('two sampled Gaussians with diagonal covariances: close to ||mu1 - mu2||^2 + sum (s1 - s2)^2', () => {
    const rng = new Rng(5);
    const d = 8;
    const mu1 = Array.from({ length: d }, (_, i) => i / 4);
    const mu2 = Array.from({ length: d }, (_, i) => (i % 2 === 0 ? i / 4 + 0.5 : i / 4 - 0.5));
    const s1 = Array.from({ length: d }, (_, i) => 0.5 + i / 8);
    const s2 = Array.from({ length: d }, (_, i) => 1.5 - i / 16);
    const diagonal = (s: number[]) => s.map((value, i) => s.map((_, j) => (i === j ? value : 0)));
    const n = 20000;
    const x = gaussianSamples(rng, n, mu1, diagonal(s1));
    const y = gaussianSamples(rng, n, mu2, diagonal(s2));
    const closed = mu1.reduce((sum, m, i) => sum + (m - mu2[i]) ** 2, 0) + s1.reduce((sum, s, i) => sum + (s - s2[i]) ** 2, 0);
    const fd = frechetDistance({ count: n, dim: d, data: x }, { count: n, dim: d, data: y });
    // Sampling error: the mean term's spread is about 2 |mu1 - mu2| s / sqrt(n) ~ 0.04; the bias ~ d/n.
    assert.ok(Math.abs(fd - closed) < 0.1, `FD ${fd} vs closed form ${closed}`);
  });

  test('two sampled 2-D Gaussians with non-commuting covariances: close to the 2x2 closed form', () => {
    const rng = new Rng(6);
    // C1 = [[2, 1], [1, 2]] (Cholesky [[sqrt 2, 0], [1/sqrt 2, sqrt(3/2)]]), C2 = diag(1, 3).
    const chol1 = [
      [Math.SQRT2, 0],
      [1 / Math.SQRT2, Math.sqrt(1.5)],
    ];
    const chol2 = [
      [1, 0],
      [0, Math.sqrt(3)],
    ];
    const n = 50000;
    const x = gaussianSamples(rng, n, [0, 0], chol1);
    const y = gaussianSamples(rng, n, [1, 0], chol2);
    const closed = 1 + 4 + 4 - 2 * Math.sqrt(14);
    const stats1 = featureStats({ count: n, dim: 2, data: x });
    const fd = frechetDistance({ count: n, dim: 2, data: x }, { count: n, dim: 2, data: y });
    assert.ok(Math.abs(stats1.cov[1] - 1) < 0.05, `sampled covariance ${stats1.cov}`);
    assert.ok(Math.abs(fd - closed) < 0.05, `FD ${fd} vs closed form ${closed}`);
  });
});

describe('Frechet distance per class (src/eval/per-class.ts)', () => {
  /** `labels.length` rows of 3 features: class k centred at (k, 2k, -k), plus noise. */
  const classified = (labels: number[], seed: number): Classified => {
    const rng = new Rng(seed);
    const data = Float64Array.from(labels.flatMap((k) => [k, 2 * k, -k].map((centre) => centre + rng.normal())));
    return { features: features(data, 3), predicted: Int32Array.from(labels) };
  };
  /** `counts[k]` images of class k, the classes interleaved (0, 1, 2, 0, 1, 2, ...), so "the first m" is a real choice. */
  const interleaved = (counts: number[]) => {
    const left = [...counts];
    const labels: number[] = [];
    while (left.some((n) => n > 0)) left.forEach((n, k) => n > 0 && (labels.push(k), left[k]--));
    return labels;
  };
  const firstOf = (set: Classified, id: number, count: number) =>
    selectRows(
      set.features,
      Array.from(set.predicted.keys())
        .filter((i) => set.predicted[i] === id)
        .slice(0, count),
    );

  test('each class at the smallest of its counts, the first images of each set, its floor at the same size; classes under the minimum left out', () => {
    const generated = classified(interleaved([30, 12, 5]), 1);
    const reference = classified(interleaved([20, 40, 40]), 2);
    const second = classified(interleaved([25, 11, 50]), 3);
    const result = perClassFrechet(generated, reference, second, 3, 10);
    assert.deepEqual(
      result.map((c) => [c.id, c.count]),
      [
        [0, 20],
        [1, 11],
      ],
    );
    for (const c of result) {
      assert.equal(c.distance, frechetDistance(firstOf(generated, c.id, c.count), firstOf(reference, c.id, c.count)));
      assert.equal(c.floor, frechetDistance(firstOf(second, c.id, c.count), firstOf(reference, c.id, c.count)));
    }
    // Without a second real sample: no floor, and its counts no longer limit the size.
    const alone = perClassFrechet(generated, reference, undefined, 3, 10);
    assert.deepEqual(
      alone.map((c) => [c.id, c.count, c.floor]),
      [
        [0, 20, undefined],
        [1, 12, undefined],
      ],
    );
  });

  test('a class drawn off its place is far, one drawn right is near its floor', () => {
    const labels = interleaved([200, 200]);
    const reference = classified(labels, 4);
    const second = classified(labels, 5);
    // Class 1's generated images sit at class 0's place, with class 1's label.
    const shifted = classified(labels, 6);
    labels.forEach((k, i) => k === 1 && [0, 1, 2].forEach((j) => (shifted.features.data[3 * i + j] -= [1, 2, -1][j]!)));
    const [zero, one] = perClassFrechet(shifted, reference, second, 2, 10);
    assert.ok(zero!.distance < 3 * zero!.floor!, `${zero!.distance} vs ${zero!.floor}`);
    // ||(1, 2, -1)||^2 = 6 from the means alone.
    assert.ok(one!.distance > 5 && one!.distance > 20 * one!.floor!, `${one!.distance} vs ${one!.floor}`);
  });
});
