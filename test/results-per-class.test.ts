// scripts/per-class-fd.ts: the per-class FD table of all-class generators from dcgan-run eval's JSON files.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from './support/tiny-config.ts';

const SCRIPT = join(PROJECT_ROOT, 'scripts/per-class-fd.ts');

function perClassTable(args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { cwd: PROJECT_ROOT, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** An evaluation as dcgan-run eval writes it, with per-class FD for the given classes: [fd, floor, images]. */
function evaluation(dir: string, name: string, classes: Record<number, [number, number, number]>): string {
  const values: Record<string, number> = { 'fd/fmnist-cnn/n10000': 5 };
  for (const [id, [fd, floor, count]] of Object.entries(classes)) {
    values[`fd_class/fmnist-cnn/n10000/c${id}`] = fd;
    values[`real_vs_real/fd_class/fmnist-cnn/n10000/c${id}`] = floor;
    values[`fd_class_n/fmnist-cnn/n10000/c${id}`] = count;
  }
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({ checkpoint: 'epoch-0007', samples: 10000, values }));
  return file;
}

test('per class and arm: mean FD and floor, the ratio to the floor with its sd and 95% t interval, the images per side; a class an arm lacks is "-"', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dcgan-run-per-class-'));
  const a0 = evaluation(dir, 'a0.json', { 0: [10, 1, 900], 7: [6, 0.5, 700] });
  const a1 = evaluation(dir, 'a1.json', { 0: [20, 1, 950], 7: [4, 0.5, 760] });
  // A run directory stands for its eval file.
  const run = join(dir, 'run');
  mkdirSync(run);
  evaluation(run, 'eval-epoch-0007-step-00001412.json', { 0: [9, 0.9, 1000] });
  const { code, stdout, stderr } = perClassTable([`a=${a0}`, `a=${a1}`, `b=${run}`]);
  assert.equal(code, 0, stderr);
  // Class 0, arm a: ratios 10 and 20, mean 15, sd 7.07, interval 15 +- 12.706 * 5 (t with 1 degree of freedom).
  assert.deepEqual(stdout.trim().split('\n'), [
    '| class | a: FD (floor) | a: x floor, 95% CI | a: images | b: FD (floor) | b: x floor, 95% CI | b: images |',
    '|---|---|---|---|---|---|---|',
    '| 0 T-shirt/top | 15.00 (1.00) | 15.0x ± 7.1 [-48.5, 78.5] | 900-950 | 9.00 (0.90) | 10.0x ± - | 1000-1000 |',
    '| 7 Sneaker | 5.00 (0.50) | 10.0x ± 2.8 [-15.4, 35.4] | 700-760 | - | - | - |',
  ]);
});

test('an evaluation without per-class FD, or a bad argument: exit 2 with the file named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dcgan-run-per-class-'));
  const plain = join(dir, 'plain.json');
  writeFileSync(plain, JSON.stringify({ checkpoint: 'latest', samples: 1000, values: { 'fd/fmnist-cnn/n1000': 3 } }));
  const missing = perClassTable([`a=${plain}`]);
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr.trim(), `per-class-fd.ts: ${plain}: no fd_class metrics (evaluate with --metrics classifier,perClass)`);
  const bare = perClassTable([plain]);
  assert.equal(bare.code, 2);
  assert.equal(bare.stderr.trim(), 'per-class-fd.ts: usage: per-class-fd.ts <arm>=<eval JSON file | run dir> ...');
});
