// A failing trial: by default the others go on and the failure is reported at the end (exit 1); with
// --fail-fast the sweep stops at once, the running trials stop with a checkpoint, the rest are not started.
// An MLflow server that does not answer fails nothing unless tracking.mlflow.required says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { RunSummary } from '../src/track/run-types.ts';
import { latestCheckpoint } from '../src/track/run-checkpoints.ts';
import { closedPort } from './support/closed-port.ts';
import { onlySweepDir, readManifest, runCli } from './support/sweep-cli.ts';
import { POKEMON_ROOT, tinyExperiment } from './support/tiny-config.ts';

/** Trials: 000 seed=1 good root, 001 seed=1 missing root, 002 seed=2 good root, 003 seed=2 missing root. */
function failingSweep(name: string, epochs: number) {
  return tinyExperiment({
    name,
    train: { epochs, samples: { count: 4, every: 1000 }, checkpoint: { every: 1000 }, logEvery: 1, backend: 'auto' },
    tracking: { runsDir: 'runs' },
    sweep: { parallel: 2, parameters: { seed: [1, 2], 'data.source.root': [POKEMON_ROOT, '/nonexistent/sprites'] } },
  });
}

test('a failed trial does not stop the others; it is reported at the end with its error, exit code 1', async () => {
  const { file, dir } = failingSweep('failures', 1);
  const result = await runCli(['run', file], { cwd: dir });
  assert.equal(result.code, 1, result.stderr);
  const sweepDir = onlySweepDir(join(dir, 'runs'), 'failures')!;
  const manifest = readManifest(sweepDir);
  assert.equal(manifest.status, 'failed');
  assert.deepEqual(
    manifest.trials.map((t) => t.status),
    ['finished', 'failed', 'finished', 'failed'],
  );
  for (const trial of [manifest.trials[1], manifest.trials[3]]) {
    assert.equal(trial.error, 'data.source.root: the folder /nonexistent/sprites does not exist');
    assert.match(
      result.stderr,
      new RegExp(`^\\[${trial.name}\\] FAILED after \\d+s: data\\.source\\.root: the folder /nonexistent/sprites does not exist$`, 'm'),
    );
  }
  assert.match(
    result.stdout,
    /Errors:\n {2}001-seed=1,root=_nonexistent_sprites \(failed\): data\.source\.root: the folder \/nonexistent\/sprites does not exist/,
  );
  const csv = readFileSync(join(sweepDir, 'summary.csv'), 'utf8');
  // Unranked, no metrics, the run id and the error.
  assert.match(
    csv,
    /^,"001-seed=1,root=_nonexistent_sprites",failed,1,\/nonexistent\/sprites,{7}[0-9a-f-]+,data\.source\.root: the folder \/nonexistent\/sprites does not exist$/m,
  );
  assert.match(readFileSync(join(sweepDir, 'summary.md'), 'utf8'), /## Errors/);
});

test('--fail-fast stops the sweep at the first failure: running trials stop with a checkpoint, the rest stay pending', async () => {
  // Trial 000 trains for "ever" while 001 fails at data loading.
  const { file, dir } = failingSweep('fail-fast', 5000);
  const result = await runCli(['run', file, '--fail-fast'], { cwd: dir });
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /--fail-fast: stopping the sweep because 001-seed=1,root=_nonexistent_sprites failed/);
  const manifest = readManifest(onlySweepDir(join(dir, 'runs'), 'fail-fast')!);
  assert.equal(manifest.status, 'failed');
  assert.deepEqual(
    manifest.trials.map((t) => t.status),
    ['stopped', 'failed', 'pending', 'pending'],
  );
  const stopped = manifest.trials[0];
  assert.match(stopped.error!, /another trial failed and --fail-fast is set/);
  assert.equal((JSON.parse(readFileSync(join(stopped.runDir!, 'summary.json'), 'utf8')) as RunSummary).status, 'stopped');
  assert.ok(existsSync(join(latestCheckpoint(stopped.runDir!), 'state.json')));
  assert.equal(manifest.trials[2].runId, null, 'not started');
});

test('a trial that diverges is failed with the divergence as its reason, its log line intact; the other trial finishes (exit 1)', async () => {
  // beta2 0 makes Adam step by m / |g| (test/train-failures.test.ts): that trial's floats overflow within a few epochs.
  const adam = { kind: 'adam', learningRate: 0.1, beta1: 0.9, epsilon: 1e-30 };
  const { file, dir } = tinyExperiment({
    name: 'diverging',
    model: {
      latentDim: 8,
      imageSize: 8,
      generator: { blocks: 2, baseChannels: 4 },
      discriminator: { blocks: 2, baseChannels: 4 },
      init: { kind: 'normal', std: 10 },
    },
    train: {
      epochs: 4,
      optimizers: { generator: adam, discriminator: adam },
      samples: { count: 4, every: 1000 },
      checkpoint: { every: 1 },
      logEvery: 1,
      backend: 'cpu',
    },
    tracking: { runsDir: 'runs' },
    sweep: {
      parallel: 2,
      parameters: { 'train.optimizers.generator.beta2': [0.999, 0] },
      link: [['train.optimizers.generator.beta2', 'train.optimizers.discriminator.beta2']],
    },
  });
  const result = await runCli(['run', file], { cwd: dir });
  assert.equal(result.code, 1, result.stderr);
  assert.doesNotMatch(result.stderr, /TypeError|could not run this trial/);
  const manifest = readManifest(onlySweepDir(join(dir, 'runs'), 'diverging')!);
  assert.deepEqual(
    manifest.trials.map((t) => t.status),
    ['finished', 'failed'],
  );
  const diverged = manifest.trials[1];
  assert.match(diverged.error!, /^training diverged at step \d+ \(epoch \d+\): .+; the run stopped without saving these weights/);
  assert.equal((JSON.parse(readFileSync(join(diverged.runDir!, 'summary.json'), 'utf8')) as RunSummary).error, diverged.error);
  assert.ok(result.stderr.includes(`[${diverged.name}] FAILED after `) && result.stderr.includes(`: ${diverged.error}\n`), result.stderr);
  assert.match(result.stdout, new RegExp(`Errors?:\\n {2}${diverged.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(failed\\): training diverged at step`));
});

test('a runs folder under a regular file is refused before any trial starts, naming tracking.runsDir (exit 2)', async () => {
  const { file, dir } = failingSweep('unwritable', 1);
  writeFileSync(join(dir, 'runs'), 'a file where the runs folder should go\n');
  const result = await runCli(['run', file], { cwd: dir });
  assert.equal(result.code, 2, result.stderr);
  assert.equal(result.stderr, `tracking.runsDir: cannot write into runs: ${join(dir, 'runs')} is a file, not a folder\n`);
});

test('an MLflow server unreachable at start: the sweep trains without its parent run and says how to sync each trial; required, it is refused (exit 2)', async () => {
  const uri = `http://127.0.0.1:${await closedPort()}`;
  const awaySweep = (name: string, required: boolean) =>
    tinyExperiment({
      name,
      train: { epochs: 1, samples: { count: 4 }, checkpoint: { every: 1000 }, logEvery: 1, backend: 'auto', report: false },
      tracking: { runsDir: 'runs', mlflow: { uri, required } },
      sweep: { parallel: 2, parameters: { seed: [1, 2] } },
    });
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  const refused = awaySweep('mlflow-required', true);
  const stopped = await runCli(['run', refused.file], { cwd: refused.dir });
  assert.equal(stopped.code, 2, stopped.stderr);
  assert.match(stopped.stderr, new RegExp(`cannot use the MLflow tracking server at ${escape(uri)}/ \\(tracking\\.mlflow\\.uri\\): .*ECONNREFUSED`));
  const notStarted = readManifest(onlySweepDir(join(refused.dir, 'runs'), 'mlflow-required')!);
  assert.deepEqual(
    notStarted.trials.map((t) => t.status),
    ['pending', 'pending'],
  );
  assert.equal(notStarted.owner, null);

  const { file, dir } = awaySweep('mlflow-away', false);
  const result = await runCli(['run', file], { cwd: dir });
  assert.equal(result.code, 0, result.stderr);
  const sweepLine = `MLflow at ${uri}/ unreachable (`;
  assert.equal(result.stderr.split('\n').filter((line) => line.startsWith(sweepLine)).length, 1, result.stderr);
  assert.match(
    result.stderr,
    new RegExp(
      `^${escape(sweepLine)}.*ECONNREFUSED.*\\): the sweep runs without its MLflow parent run; each trial logs locally and keeps trying the server, and \`dcgan-run sync <run-dir>\` uploads a trial later$`,
      'm',
    ),
  );
  const manifest = readManifest(onlySweepDir(join(dir, 'runs'), 'mlflow-away')!);
  assert.equal(manifest.mlflow, null, 'no parent run');
  assert.deepEqual(
    manifest.trials.map((t) => t.status),
    ['finished', 'finished'],
  );
  for (const trial of manifest.trials) {
    // The trial's own line, as a single run's: the command that uploads it later.
    assert.match(
      result.stderr,
      new RegExp(
        `^\\[${escape(trial.name)}\\] warning: ${escape(sweepLine)}.*\\): logging locally; the run keeps trying the server, and \`dcgan-run sync ${escape(relative(dir, trial.runDir!))}\` uploads later$`,
        'm',
      ),
    );
    assert.ok(existsSync(join(trial.runDir!, 'samples', 'epoch-0001.png')));
  }
});
