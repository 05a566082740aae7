// tpe and ASHA end to end through the CLI with tiny real trials: tpe's parallel trials get distinct values;
// ASHA prunes trials at their evaluations (status pruned in the manifest and the summary, with a checkpoint),
// and running the sweep again keeps those decisions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { onlySweepDir, readManifest, runCli } from './support/sweep-cli.ts';
import { tinyExperiment } from './support/tiny-config.ts';

const LR = 'train.optimizers.generator.learningRate';
const METRIC = 'swd/patch7/n10/avg';
const evaluation = { eval: { samples: 10, metrics: ['patches'] } };

test('tpe: 4 trials 2 at a time, each with its own suggested values and its objective in the table', async () => {
  const { file, dir } = tinyExperiment({
    name: 'tpe-e2e',
    train: { epochs: 1, samples: { count: 4 }, logEvery: 1, backend: 'cpu', report: false, ...evaluation },
    tracking: { runsDir: 'runs' },
    sweep: {
      strategy: 'tpe',
      trials: 4,
      parallel: 2,
      tpe: { startupTrials: 2 },
      objective: { metric: METRIC, mode: 'min' },
      parameters: { [LR]: { distribution: 'logUniform', min: 1e-4, max: 1e-2 } },
    },
  });
  const result = await runCli(['run', file], { cwd: dir });
  assert.equal(result.code, 0, result.stderr);
  const manifest = readManifest(onlySweepDir(join(dir, 'runs'), 'tpe-e2e')!);
  assert.equal(manifest.status, 'finished');
  assert.deepEqual(
    manifest.trials.map((t) => t.status),
    ['finished', 'finished', 'finished', 'finished'],
  );
  assert.equal(new Set(manifest.trials.map((t) => t.values[LR])).size, 4, 'distinct values');
  for (const trial of manifest.trials) {
    assert.ok(Number.isFinite(trial.objective?.value));
    assert.equal(parse(readFileSync(join(trial.runDir!, 'config.yaml'), 'utf8')).train.optimizers.generator.learningRate, trial.values[LR]);
  }
  assert.match(result.stdout, new RegExp(METRIC.replaceAll('/', '\\/')));
});

test('asha prunes trials at their evaluations, and a resumed sweep keeps the decisions', async () => {
  const { file, dir } = tinyExperiment({
    name: 'asha-e2e',
    train: { epochs: 3, samples: { count: 4 }, logEvery: 1, backend: 'cpu', report: false, ...evaluation },
    tracking: { runsDir: 'runs' },
    sweep: {
      parallel: 1,
      objective: { metric: METRIC, mode: 'min' },
      earlyStop: { kind: 'asha', minEpochs: 1, reductionFactor: 2 },
      parameters: { [LR]: [0.0002, 0.02, 0.001, 0.05] },
    },
  });
  const first = await runCli(['run', file], { cwd: dir });
  assert.equal(first.code, 0, first.stderr);
  const sweepDir = onlySweepDir(join(dir, 'runs'), 'asha-e2e')!;
  const manifest = readManifest(sweepDir);
  const pruned = manifest.trials.filter((t) => t.status === 'pruned');
  assert.ok(pruned.length > 0, `some trial pruned: ${manifest.trials.map((t) => t.status).join(', ')}`);
  for (const trial of pruned) {
    assert.ok(trial.pruned && trial.pruned.epoch < 3 && trial.epochsDone === trial.pruned.epoch);
    assert.ok(existsSync(join(trial.runDir!, 'checkpoints', 'latest.json')), 'a checkpoint where it stopped');
    assert.match(first.stderr, new RegExp(`^\\[${trial.name}\\] pruned in`, 'm'));
  }
  const csv = readFileSync(join(sweepDir, 'summary.csv'), 'utf8');
  for (const trial of pruned) assert.match(csv, new RegExp(`${trial.name}.*,pruned,.*pruned at epoch ${trial.pruned!.epoch} \\(rung ${trial.pruned!.rung}\\)`));
  const rungs = JSON.parse(readFileSync(join(sweepDir, 'rungs.json'), 'utf8')) as Record<string, number[]>;
  assert.equal(Object.keys(rungs).length, 4);

  const again = await runCli(['run', file], { cwd: dir });
  assert.equal(again.code, 0, again.stderr);
  const resumed = readManifest(sweepDir);
  assert.deepEqual(
    resumed.trials.map((t) => [t.status, t.attempts]),
    manifest.trials.map((t) => [t.status, t.attempts]),
    'nothing run again',
  );
  assert.deepEqual(JSON.parse(readFileSync(join(sweepDir, 'rungs.json'), 'utf8')), rungs);
});
