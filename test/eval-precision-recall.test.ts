import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Features } from '../src/eval/linalg.ts';
import { kthNeighbourRadii, precisionRecall } from '../src/eval/precision-recall.ts';
import { Rng } from '../src/random/rng.ts';

function gaussian(rng: Rng, count: number, dim: number, centre: (i: number) => number = () => 0): Features {
  const data = new Float64Array(count * dim);
  for (let i = 0; i < count; i++) for (let k = 0; k < dim; k++) data[i * dim + k] = centre(i) + rng.normal();
  return { count, dim, data };
}

describe('k-NN precision and recall', () => {
  test('the k-th neighbour radii match a brute-force sort', () => {
    const set = gaussian(new Rng(21), 40, 3);
    const radii = kthNeighbourRadii(set, 3);
    for (let i = 0; i < set.count; i++) {
      const distances: number[] = [];
      for (let j = 0; j < set.count; j++) {
        if (j === i) continue;
        let sum = 0;
        for (let k = 0; k < 3; k++) sum += (set.data[i * 3 + k] - set.data[j * 3 + k]) ** 2;
        distances.push(sum);
      }
      distances.sort((a, b) => a - b);
      assert.equal(radii[i], distances[2]);
    }
    assert.throws(() => kthNeighbourRadii(set, 40), /k = 40/);
  });

  test('identical sets: precision 1, recall 1', () => {
    const set = gaussian(new Rng(22), 500, 16);
    assert.deepEqual(precisionRecall(set, set), { precision: 1, recall: 1, k: 3 });
  });

  test('disjoint, far-apart sets: precision 0, recall 0', () => {
    const rng = new Rng(23);
    const real = gaussian(rng, 300, 8);
    const fake = gaussian(rng, 300, 8, () => 100);
    assert.deepEqual(precisionRecall(real, fake), { precision: 0, recall: 0, k: 3 });
  });

  test('two samples of one distribution score high; a collapse onto one of two modes keeps precision but halves recall', () => {
    const rng = new Rng(24);
    const twoModes = (count: number) => gaussian(rng, count, 4, (i) => (i % 2 === 0 ? -10 : 10));
    const real = twoModes(600);
    const other = twoModes(600);
    const same = precisionRecall(real, other);
    assert.ok(same.precision > 0.9 && same.recall > 0.9, JSON.stringify(same));
    const collapsed = gaussian(rng, 600, 4, () => 10);
    const pr = precisionRecall(real, collapsed);
    assert.ok(pr.precision > 0.9, JSON.stringify(pr));
    assert.ok(pr.recall > 0.4 && pr.recall < 0.55, JSON.stringify(pr));
  });
});
