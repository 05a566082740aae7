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
  assert.deepEqual(
    [...order].sort((a, b) => a - b),
    Array.from({ length: 1000 }, (_, i) => i),
  );
  assert.notDeepEqual(
    [...order],
    Array.from({ length: 1000 }, (_, i) => i),
  );
});

test('a restored state repeats the draws that follow it, a pending Box-Muller value included, through JSON', () => {
  const rng = new Rng(9);
  rng.normal(); // leaves the pair's second value pending
  const saved = JSON.parse(JSON.stringify(rng.state()));
  assert.notEqual(saved.spareNormal, null);
  const expected = [rng.normal(), rng.next(), rng.int(1000), ...rng.normals(3)];
  const other = new Rng(1);
  other.restore(saved);
  assert.deepEqual([other.normal(), other.next(), other.int(1000), ...other.normals(3)], expected);
  // No pending value: restoring must clear one the target holds.
  const fresh = new Rng(3).state();
  assert.equal(fresh.spareNormal, null);
  other.normal();
  other.restore(fresh);
  assert.deepEqual(other.normals(4), new Rng(3).normals(4));
});
