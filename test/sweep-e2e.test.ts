// Sweeps end to end through the CLI, tracked on a real MLflow server: 4 trials 2 at a time (a parent run and
// 4 child runs, the summary written and logged); the swept keys as each trial's params; Ctrl-C (parent KILLED);
// a failed trial (parent FAILED).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { summaryRows } from '../src/sweep/summary.ts';
import { MlflowClient } from '../src/track/mlflow/index.ts';
import type { RunSummary } from '../src/track/run-types.ts';
import { startMlflowServer, type MlflowTestServer } from './support/mlflow-server.ts';
import { latestCheckpoint } from '../src/track/run-checkpoints.ts';
import { cliEnv, onlySweepDir, readManifest, runCli, startCli, waitFor } from './support/sweep-cli.ts';
import { POKEMON_ROOT, tinyExperiment } from './support/tiny-config.ts';

const LR = 'train.optimizers.generator.learningRate';
let server: MlflowTestServer;

before(async () => {
  server = await startMlflowServer();
});
after(async () => {
  await server?.stop();
});

test('a 4-trial sweep runs 2 at a time, records every trial and logs a parent run with 4 children', async (t) => {
  const experiment = `sweep-e2e-${Date.now()}`;
  const { file, dir } = tinyExperiment({
    name: experiment,
    train: { epochs: 1, samples: { count: 4 }, logEvery: 1, backend: 'auto' },
    tracking: { runsDir: 'runs', mlflow: { uri: server.uri } },
    sweep: {
      parallel: 2,
      parameters: { [LR]: [0.001, 0.005], 'data.batchSize': [4, 8] },
      link: [[LR, 'train.optimizers.discriminator.learningRate']],
    },
  });
  const started = Date.now();
  const result = await runCli(['run', file], { cwd: dir, env: cliEnv() });
  const seconds = (Date.now() - started) / 1000;
  const output = `--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
  assert.equal(result.code, 0, output);

  // The local record: the manifest, one run directory per trial, the summary.
  const sweepDir = onlySweepDir(join(dir, 'runs'), experiment)!;
  const manifest = readManifest(sweepDir);
  assert.equal(manifest.status, 'finished');
  assert.equal(manifest.owner, null);
  assert.deepEqual(
    manifest.trials.map((t) => t.status),
    ['finished', 'finished', 'finished', 'finished'],
  );
  assert.deepEqual(
    manifest.trials.map((t) => t.values),
    [
      [0.001, 4],
      [0.001, 8],
      [0.005, 4],
      [0.005, 8],
    ].map(([lr, batch]) => ({ [LR]: lr, 'data.batchSize': batch })),
  );
  assert.equal(new Set(manifest.trials.map((t) => t.runDir)).size, 4);
  for (const trial of manifest.trials) {
    const summary = JSON.parse(readFileSync(join(trial.runDir!, 'summary.json'), 'utf8')) as RunSummary;
    assert.equal(summary.status, 'finished');
    assert.equal(summary.runId, trial.runId);
    const config = parse(readFileSync(join(trial.runDir!, 'config.yaml'), 'utf8'));
    assert.equal(config.train.optimizers.generator.learningRate, trial.values[LR]);
    assert.equal(config.train.optimizers.discriminator.learningRate, trial.values[LR], 'linked');
    assert.equal(config.data.batchSize, trial.values['data.batchSize']);
    assert.equal(config.sweep, undefined);
    assert.ok(
      trial.metrics && trial.metrics.epoch === 1 && [trial.metrics.lossD, trial.metrics.lossG, trial.metrics.dReal, trial.metrics.dFake].every(Number.isFinite),
    );
  }
  // Two at a time: some trial started before another had ended; and the output is prefixed per trial.
  const spans = manifest.trials.map((t) => [Date.parse(t.startedAt!), Date.parse(t.endedAt!)]);
  assert.ok(
    spans.some(([start], i) => spans.some(([s, e], j) => i !== j && s <= start && start < e)),
    'trials overlapped',
  );
  for (const trial of manifest.trials) assert.match(result.stderr, new RegExp(`^\\[${trial.name}\\] epoch 1/1: loss D`, 'm'));
  assert.match(result.stderr, /^sweep: 4\/4 done \(4 finished, 0 failed\), 0 running, 0 to go, ETA 0s$/m);
  assert.match(result.stderr, /^sweep: 1\/4 done .* ETA \d+s$/m, 'an ETA once a trial finished');
  assert.doesNotMatch(result.stderr, /oneDNN custom operations/, 'TensorFlow start-up notes are filtered');

  const csv = readFileSync(join(sweepDir, 'summary.csv'), 'utf8').trimEnd().split('\n');
  assert.equal(csv[0], `rank,trial,status,${LR},data.batchSize,epochs,lossD,lossG,dReal,dFake,balance,runId,error`);
  assert.equal(csv.length, 5);
  for (const trial of manifest.trials) {
    const row = csv.find((line) => line.includes(`"${trial.name}"`) || line.includes(`,${trial.name},`));
    assert.ok(row, `a row for ${trial.name}`);
    assert.ok(row.includes(`,finished,${trial.values[LR]},${trial.values['data.batchSize']},1,`), row);
    assert.ok(row.includes(trial.runId!));
  }
  assert.deepEqual(
    csv.slice(1).map((line) => line.split(',')[0]),
    ['1', '2', '3', '4'],
    'ranked',
  );
  const md = readFileSync(join(sweepDir, 'summary.md'), 'utf8');
  assert.match(md, /Sorted by balance = \|dReal - 0\.5\| \+ \|dFake - 0\.5\|/);
  for (const trial of manifest.trials)
    assert.ok(md.includes(`| ${trial.name} | finished | ${trial.values[LR]} | ${trial.values['data.batchSize']} | 1 |`), trial.name);
  assert.match(result.stdout, /^rank +trial +status/m, 'the table is printed');

  // MLflow: the parent run, its artifacts and status, and one child per trial.
  const client = new MlflowClient({ trackingUri: server.uri });
  assert.ok(manifest.mlflow, 'the manifest records the parent run');
  const parent = await client.getRun(manifest.mlflow.parentRunId);
  const tags = Object.fromEntries(parent.data.tags.map((t) => [t.key, t.value]));
  assert.equal(tags['dcgan.sweep'], 'true');
  assert.equal(parent.info.run_name, manifest.sweepId);
  assert.equal(parent.info.status, 'FINISHED');
  assert.equal(tags['dcgan.sweep.best'], summaryRows(manifest)[0].trial.name);
  const artifacts = (await client.listArtifacts(parent.info.run_id)).map((f) => f.path).sort();
  assert.deepEqual(artifacts, ['manifest.json', 'summary.csv', 'summary.md', 'sweep']);
  assert.deepEqual((await client.listArtifacts(parent.info.run_id, 'sweep')).map((f) => f.path).sort(), ['sweep/sweep.yaml', 'sweep/trials.json']);
  assert.equal((await client.downloadArtifact(parent.info.run_id, 'summary.csv')).toString(), readFileSync(join(sweepDir, 'summary.csv'), 'utf8'));
  const definition = parse((await client.downloadArtifact(parent.info.run_id, 'sweep/sweep.yaml')).toString());
  assert.deepEqual(definition.sweep.parameters[LR], [0.001, 0.005]);
  const metrics = Object.fromEntries(parent.data.metrics.map((m) => [m.key, m.value]));
  assert.equal(metrics.trials_finished, 4);
  assert.equal(metrics.trials_failed, 0);

  const { runs: children } = await client.searchRuns({
    experimentIds: [parent.info.experiment_id],
    filter: `tags.mlflow.parentRunId = '${parent.info.run_id}'`,
  });
  assert.equal(children.length, 4, 'a child run per trial');
  const childTags = children.map((run) => Object.fromEntries(run.data.tags.map((t) => [t.key, t.value])));
  assert.deepEqual(childTags.map((t) => t['dcgan.runId']).sort(), manifest.trials.map((t) => t.runId).sort());
  for (const run of children) assert.equal(run.info.status, 'FINISHED');
  t.diagnostic(`4-trial sweep, parallel 2, with MLflow: ${seconds.toFixed(1)} s`);
});

test('each trial logs the keys its sweep varies as params, valued as its config has them, for the compare view', async () => {
  const experiment = `sweep-params-${Date.now()}`;
  const activation = 'model.discriminator.activation';
  const { file, dir } = tinyExperiment({
    name: experiment,
    train: { epochs: 1, samples: { count: 4 }, logEvery: 1, backend: 'auto', report: false },
    tracking: { runsDir: 'runs', mlflow: { uri: server.uri } },
    sweep: { parallel: 2, parameters: { [activation]: [{ kind: 'relu' }, { kind: 'leakyRelu', alpha: 0.3 }], [LR]: [0.002] } },
  });
  const result = await runCli(['run', file], { cwd: dir, env: cliEnv() });
  assert.equal(result.code, 0, result.stderr);
  const manifest = readManifest(onlySweepDir(join(dir, 'runs'), experiment)!);
  const client = new MlflowClient({ trackingUri: server.uri });
  const parent = await client.getRun(manifest.mlflow!.parentRunId);
  assert.equal(parent.data.tags.find((t) => t.key === 'dcgan.sweep.parameters')?.value, JSON.stringify([activation, LR]));

  const children = await childRuns(client, parent.info.experiment_id, parent.info.run_id);
  assert.equal(children.length, 2);
  const byRunId = new Map(children.map((run) => [run.data.tags.find((t) => t.key === 'dcgan.runId')!.value, run]));
  const swept = manifest.trials.map((trial) => Object.fromEntries(byRunId.get(trial.runId!)!.data.params.map((p) => [p.key, p.value])));
  const lrD = String(parse(readFileSync(join(manifest.trials[0].runDir!, 'config.yaml'), 'utf8')).train.optimizers.discriminator.learningRate);
  // The key params under their short names (the swept learning rate is lr_G), any other swept key under itself.
  assert.deepEqual(swept, [
    { epochs: '1', batch_size: '8', lr_G: '0.002', lr_D: lrD, [activation]: '{"kind":"relu"}' },
    { epochs: '1', batch_size: '8', lr_G: '0.002', lr_D: lrD, [activation]: '{"kind":"leakyRelu","alpha":0.3}' },
  ]);
});

const runSummary = (runDir: string) => JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as RunSummary;

async function childRuns(client: MlflowClient, experimentId: string, parentRunId: string) {
  const { runs } = await client.searchRuns({ experimentIds: [experimentId], filter: `tags.mlflow.parentRunId = '${parentRunId}'` });
  return runs;
}

test('Ctrl-C stops every running trial after its step, with a checkpoint; the sweep exits 130, the parent run is KILLED', async () => {
  const experiment = `sweep-interrupt-${Date.now()}`;
  const { file, dir } = tinyExperiment({
    name: experiment,
    train: { epochs: 5000, samples: { count: 4, every: 1000 }, checkpoint: { every: 1000 }, logEvery: 1, backend: 'auto' },
    tracking: { runsDir: 'runs', mlflow: { uri: server.uri } },
    sweep: { parallel: 2, parameters: { seed: [1, 2, 3] } },
  });
  const runs = join(dir, 'runs');
  const sweep = startCli(['run', file], { cwd: dir });
  await waitFor(
    'two trials training',
    () => {
      const sweepDir = onlySweepDir(runs, experiment);
      const running = sweepDir ? readManifest(sweepDir).trials.filter((t) => t.status === 'running') : [];
      return running.length === 2 && running.every((t) => existsSync(join(t.runDir!, 'metrics.jsonl')));
    },
    60_000,
    sweep.output,
  );
  sweep.child.kill('SIGINT');
  const result = await sweep.done;
  assert.equal(result.code, 130, sweep.output());
  assert.match(result.stderr, /stopping 2 running trials after their current step/);
  const manifest = readManifest(onlySweepDir(runs, experiment)!);
  assert.equal(manifest.status, 'stopped');
  assert.equal(manifest.owner, null);
  assert.deepEqual(
    manifest.trials.map((t) => t.status),
    ['stopped', 'stopped', 'pending'],
  );
  for (const trial of manifest.trials.slice(0, 2)) {
    assert.match(trial.error!, /^stopped after \d+\/5000 epochs \(interrupted\)$/);
    assert.equal(runSummary(trial.runDir!).status, 'stopped');
    assert.ok(existsSync(join(latestCheckpoint(trial.runDir!), 'state.json')), 'a checkpoint of where it stopped');
  }
  assert.ok(existsSync(join(onlySweepDir(runs, experiment)!, 'summary.md')));

  const client = new MlflowClient({ trackingUri: server.uri });
  const parent = await client.getRun(manifest.mlflow!.parentRunId);
  assert.equal(parent.info.status, 'KILLED');
  const children = await childRuns(client, parent.info.experiment_id, parent.info.run_id);
  assert.deepEqual(
    children.map((run) => run.info.status),
    ['KILLED', 'KILLED'],
  );
});

test('a failed trial makes the parent run FAILED, with the error in the logged summary', async () => {
  const experiment = `sweep-failed-${Date.now()}`;
  const { file, dir } = tinyExperiment({
    name: experiment,
    train: { epochs: 1, samples: { count: 4 }, logEvery: 1, backend: 'auto' },
    tracking: { runsDir: 'runs', mlflow: { uri: server.uri } },
    sweep: { parallel: 2, parameters: { 'data.source.root': [POKEMON_ROOT, '/nonexistent/sprites'] } },
  });
  const result = await runCli(['run', file], { cwd: dir });
  assert.equal(result.code, 1, result.stderr);
  const manifest = readManifest(onlySweepDir(join(dir, 'runs'), experiment)!);
  assert.deepEqual(
    manifest.trials.map((t) => t.status),
    ['finished', 'failed'],
  );
  const client = new MlflowClient({ trackingUri: server.uri });
  const parent = await client.getRun(manifest.mlflow!.parentRunId);
  assert.equal(parent.info.status, 'FAILED');
  const md = (await client.downloadArtifact(parent.info.run_id, 'summary.md')).toString();
  assert.match(md, /## Errors\n\n- \*\*001-root=_nonexistent_sprites\*\* \(failed\): data\.source\.root: the folder \/nonexistent\/sprites does not exist/);
  const children = await childRuns(client, parent.info.experiment_id, parent.info.run_id);
  assert.deepEqual(
    children.map((run) => run.info.status),
    ['FINISHED'],
    'the failed trial failed before its run started',
  );
});
