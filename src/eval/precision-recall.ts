// Improved precision and recall (Kynkaanniemi et al. 2019): each set's manifold is the union of balls
// around its samples, each ball's radius the distance to that sample's k-th nearest neighbour in its own
// set. Precision: the share of generated samples inside the real manifold (are the fakes realistic?);
// recall: the share of real samples inside the generated manifold (is the real variety covered?).
// Distances are exact (sums of squared differences, not |a|^2 + |b|^2 - 2ab) in Float64.
import type { Features } from './linalg.ts';

export interface PrecisionRecall {
  precision: number;
  recall: number;
  k: number;
}

/** Squared distance between row i of a and row j of b. */
function squaredDistance(a: Features, i: number, b: Features, j: number): number {
  const d = a.dim;
  let sum = 0;
  for (let k = 0, p = i * d, q = j * d; k < d; k++) {
    const diff = a.data[p + k] - b.data[q + k];
    sum += diff * diff;
  }
  return sum;
}

/** Squared distance of each row to its k-th nearest other row of the same set (itself excluded). */
export function kthNeighbourRadii(set: Features, k: number): Float64Array {
  const n = set.count;
  if (!Number.isInteger(k) || k < 1 || k >= n) throw new RangeError(`k = ${k} must be an integer from 1 to ${n - 1} (the set has ${n} samples)`);
  // Symmetric: each pair once.
  const distances = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const value = squaredDistance(set, i, set, j);
      distances[i * n + j] = value;
      distances[j * n + i] = value;
    }
  }
  const radii = new Float64Array(n);
  const nearest = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    nearest.fill(Infinity);
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const value = distances[i * n + j];
      if (value >= nearest[k - 1]) continue;
      // Insert into the sorted list of the k smallest.
      let at = k - 1;
      while (at > 0 && nearest[at - 1] > value) {
        nearest[at] = nearest[at - 1];
        at--;
      }
      nearest[at] = value;
    }
    radii[i] = nearest[k - 1];
  }
  return radii;
}

/**
 * Precision and recall of `generated` against `real`. `realRadii` (kthNeighbourRadii(real, k)) may be
 * passed in when one real set is compared with several others.
 */
export function precisionRecall(real: Features, generated: Features, k = 3, realRadii?: Float64Array): PrecisionRecall {
  if (real.dim !== generated.dim) throw new RangeError(`feature dimensions differ: ${real.dim} and ${generated.dim}`);
  const radiiReal = realRadii ?? kthNeighbourRadii(real, k);
  if (radiiReal.length !== real.count) throw new RangeError(`${radiiReal.length} radii for ${real.count} real samples`);
  const radiiGenerated = kthNeighbourRadii(generated, k);
  // One pass over the generated x real distances serves both directions.
  const coveredReal = new Uint8Array(real.count);
  let inside = 0;
  for (let g = 0; g < generated.count; g++) {
    let isInside = false;
    for (let r = 0; r < real.count; r++) {
      const value = squaredDistance(generated, g, real, r);
      if (value <= radiiReal[r]) isInside = true;
      if (value <= radiiGenerated[g]) coveredReal[r] = 1;
    }
    if (isInside) inside++;
  }
  return { precision: inside / generated.count, recall: coveredReal.reduce((sum, value) => sum + value, 0) / real.count, k };
}
