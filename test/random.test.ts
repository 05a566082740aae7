import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveSeed, Rng } from '../src/random/rng.ts';

test('derived seeds differ across seeds and labels, and repeat for the same pair', () => {
  const seeds = new Set<number>();
  for (let seed = 0; seed < 200; seed++) for (const label of ['noise', 'samples', 'generator/g_block1_convT']) seeds.add(deriveSeed(seed, label));
  assert.equal(seeds.size, 600);
  assert.equal(deriveSeed(7, 'noise'), deriveSeed(7, 'noise'));
});

test('the generator repeats its sequence for a seed and draws standard normals', () => {
  assert.deepEqual(new Rng(42).normals(5), new Rng(42).normals(5));
  assert.notDeepEqual(new Rng(42).normals(5), new Rng(43).normals(5));
  const values = new Rng(1).normals(200_000);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  assert.ok(Math.abs(mean) < 0.01, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 0.01, `variance ${variance}`);
});

test('permutations contain every index once', () => {
  const order = new Rng(5).permutation(1000);
  assert.deepEqual([...order].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  assert.notDeepEqual([...order], Array.from({ length: 1000 }, (_, i) => i));
});
