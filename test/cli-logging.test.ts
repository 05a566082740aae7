// What a command prints before its own first line: nothing from TensorFlow.js's cpu banner or TensorFlow's
// INFO lines, unless --verbose asks for TensorFlow's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { needsBackend } from './support/requirements.ts';
import { runCli } from './support/sweep-cli.ts';
import { tinyExperiment } from './support/tiny-config.ts';

const skipTensorflow = await needsBackend('tensorflow');

test('plan prints the plan only: no greeting from the cpu backend', async () => {
  const { file, dir } = tinyExperiment();
  const plan = await runCli(['plan', file], { cwd: dir });
  assert.equal(plan.code, 0, plan.stderr);
  assert.equal(plan.stderr, '');
  assert.match(plan.stdout, /^# Resolved config \(defaults filled\)\n/);
});

test("TensorFlow's INFO lines are hidden, and --verbose shows them", { skip: skipTensorflow }, async () => {
  const { file, dir } = tinyExperiment();
  const args = [file, '--set', 'train.backend=tensorflow', '--set', 'train.epochs=1'];
  const quiet = await runCli(args, { cwd: dir });
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.match(quiet.stderr, /^backend: tensorflow$/m);
  assert.doesNotMatch(quiet.stderr + quiet.stdout, /cpu_feature_guard/);
  const verbose = await runCli(['--verbose', ...args], { cwd: dir });
  assert.equal(verbose.code, 0, verbose.stderr);
  assert.match(verbose.stderr, /cpu_feature_guard\.cc/);
});
