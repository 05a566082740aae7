// Dense Float64 linear algebra for the statistics of the quality metrics: feature dimensions are small
// (<= a few hundred), so O(d^3) in plain JavaScript is fast enough and keeps every step in double precision.
// Matrices are row-major Float64Arrays of d*d values.

/** Rows of `dim` numbers: the feature vectors (or patch descriptors) of `count` images. */
export interface Features {
  count: number;
  dim: number;
  /** count*dim values, row-major. */
  data: Float32Array | Float64Array;
}

export function features(data: Float32Array | Float64Array, dim: number): Features {
  if (!Number.isInteger(dim) || dim <= 0 || data.length % dim !== 0) throw new RangeError(`${data.length} values are not rows of ${dim}`);
  return { count: data.length / dim, dim, data };
}

/** The rows at `indices`, in that order. */
export function selectRows(set: Features, indices: ArrayLike<number>): Features {
  const { dim } = set;
  const out = new Float64Array(indices.length * dim);
  for (let i = 0; i < indices.length; i++) {
    const row = indices[i];
    if (!(row >= 0 && row < set.count)) throw new RangeError(`row ${row} is outside 0..${set.count - 1}`);
    for (let k = 0; k < dim; k++) out[i * dim + k] = set.data[row * dim + k];
  }
  return { count: indices.length, dim, data: out };
}

/** Mean vector and the unbiased (n - 1) covariance matrix, two-pass (centred) in Float64. */
export function meanAndCovariance(set: Features): { mean: Float64Array; cov: Float64Array } {
  const { count: n, dim: d, data } = set;
  if (n < 2) throw new RangeError(`a covariance needs at least 2 samples, not ${n}`);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) mean[k] += data[i * d + k];
  for (let k = 0; k < d; k++) mean[k] /= n;
  const cov = new Float64Array(d * d);
  const centred = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) centred[k] = data[i * d + k] - mean[k];
    for (let j = 0; j < d; j++) {
      const cj = centred[j];
      if (cj === 0) continue;
      const row = j * d;
      for (let k = j; k < d; k++) cov[row + k] += cj * centred[k];
    }
  }
  for (let j = 0; j < d; j++) {
    for (let k = j; k < d; k++) {
      const value = cov[j * d + k] / (n - 1);
      cov[j * d + k] = value;
      cov[k * d + j] = value;
    }
  }
  return { mean, cov };
}

export function matMul(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const aik = a[i * d + k];
      if (aik === 0) continue;
      const bRow = k * d;
      const outRow = i * d;
      for (let j = 0; j < d; j++) out[outRow + j] += aik * b[bRow + j];
    }
  }
  return out;
}

export function trace(a: Float64Array, d: number): number {
  let sum = 0;
  for (let i = 0; i < d; i++) sum += a[i * d + i];
  return sum;
}

/**
 * Eigenvalues and eigenvectors of a symmetric matrix by the cyclic Jacobi method: rotations that zero one
 * off-diagonal pair at a time, sweep after sweep, until the off-diagonal mass is negligible (quadratic
 * convergence, accurate to a few ulps of the largest eigenvalue). `vectors` holds the eigenvectors as
 * columns (vectors[i * d + k] is component i of the k-th), in the order of `values` (ascending).
 */
export function symmetricEigen(matrix: Float64Array, d: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  // Symmetrise: the caller's matrix may carry round-off asymmetry (e.g. S C S computed by two products).
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) {
      const value = (a[i * d + j] + a[j * d + i]) / 2;
      a[i * d + j] = value;
      a[j * d + i] = value;
    }
  }
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  let norm = 0;
  for (let i = 0; i < d * d; i++) norm += a[i] * a[i];
  const tolerance = (Number.EPSILON * Number.EPSILON * norm) / 4;

  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) off += a[p * d + q] * a[p * d + q];
    if (off <= tolerance || off === 0) break;
    for (let p = 0; p < d - 1; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q];
        if (apq === 0) continue;
        const app = a[p * d + p];
        const aqq = a[q * d + q];
        // Zero pairs already below round-off relative to their diagonal entries instead of rotating.
        const g = 100 * Math.abs(apq);
        if (
          (Math.abs(app) + g === Math.abs(app) && Math.abs(aqq) + g === Math.abs(aqq)) ||
          Math.abs(apq) < Number.EPSILON * 1e-3 * Math.sqrt(Math.abs(app * aqq))
        ) {
          a[p * d + q] = 0;
          a[q * d + p] = 0;
          continue;
        }
        const theta = (aqq - app) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        // A <- J^T A J, with J the rotation in the (p, q) plane: columns, then rows.
        for (let k = 0; k < d; k++) {
          const akp = a[k * d + p];
          const akq = a[k * d + q];
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p * d + k];
          const aqk = a[q * d + k];
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
        a[p * d + q] = 0;
        a[q * d + p] = 0;
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p];
          const vkq = v[k * d + q];
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }

  const order = Array.from({ length: d }, (_, i) => i).sort((i, j) => a[i * d + i] - a[j * d + j]);
  const values = Float64Array.from(order, (i) => a[i * d + i]);
  const vectors = new Float64Array(d * d);
  order.forEach((from, to) => {
    for (let i = 0; i < d; i++) vectors[i * d + to] = v[i * d + from];
  });
  return { values, vectors };
}

/**
 * The symmetric positive semi-definite square root V diag(sqrt(max(l, 0))) V^T of a symmetric PSD
 * matrix. Eigenvalues that round-off pushed below zero are taken as zero.
 */
export function sqrtPsd(matrix: Float64Array, d: number): Float64Array {
  const { values, vectors } = symmetricEigen(matrix, d);
  const roots = Float64Array.from(values, (value) => Math.sqrt(Math.max(value, 0)));
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      let sum = 0;
      for (let k = 0; k < d; k++) sum += vectors[i * d + k] * roots[k] * vectors[j * d + k];
      out[i * d + j] = sum;
      out[j * d + i] = sum;
    }
  }
  return out;
}

/**
 * Tr((A B)^(1/2)) for symmetric PSD A and B. A B is not symmetric, but it is similar to
 * A^(1/2) B A^(1/2), which is symmetric PSD: the same (non-negative) eigenvalues, so the trace of the
 * square root is the sum of the square roots of that symmetric matrix's eigenvalues.
 */
export function traceSqrtProduct(a: Float64Array, b: Float64Array, d: number): number {
  const root = sqrtPsd(a, d);
  const middle = matMul(matMul(root, b, d), root, d);
  const { values } = symmetricEigen(middle, d);
  let sum = 0;
  for (const value of values) sum += Math.sqrt(Math.max(value, 0));
  return sum;
}
