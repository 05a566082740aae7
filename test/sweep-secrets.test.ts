// A password in tracking.mlflow.uri reaches no file a sweep writes (trials.json, sweep.yaml, manifest.json, the
// summary tables) nor the parent run's artifacts on a real MLflow server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expandSweep } from '../src/config/sweep-expand.ts';
import { SweepDirectory, trialsHash } from '../src/track/sweep-manifest.ts';
import { ParentRun } from '../src/sweep/mlflow-parent.ts';
import { summaryCsv, summaryMarkdown, summaryText } from '../src/sweep/summary.ts';
import { writeFileAtomic } from '../src/io/atomic.ts';
import { MlflowClient } from '../src/track/mlflow/index.ts';
import { startMlflowServer, type MlflowTestServer } from './support/mlflow-server.ts';
import { cliEnv } from './support/sweep-cli.ts';
import { tinyExperiment } from './support/tiny-config.ts';

const LR = 'train.optimizers.generator.learningRate';
const PASSWORD = 's3cret-Pw';
let server: MlflowTestServer;

before(async () => {
  server = await startMlflowServer();
});
after(async () => {
  await server?.stop();
});

test('a password in the tracking URI is written to no sweep file and uploaded in no artifact', async () => {
  const uri = server.uri.replace('://', `://alice:${PASSWORD}@`);
  const { config, file, dir } = tinyExperiment({
    name: `secrets-${Date.now()}`,
    tracking: { mlflow: { uri } },
    sweep: { parameters: { [LR]: [0.001, 0.002] } },
  });
  assert.equal(config.tracking.mlflow?.uri, uri);
  const trials = expandSweep(config);
  const directory = SweepDirectory.create(join(dir, 'runs'), config, file, trials);
  const parent = (await ParentRun.open(config, directory, { uri, source: 'tracking.mlflow.uri' }, { log: () => {}, warn: assert.fail }, cliEnv()))!;

  const [first, second] = directory.manifest.trials;
  directory.update(first.name, { status: 'failed', error: `MLflow at ${uri} refused the run` });
  directory.update(second.name, { status: 'finished', metrics: { epoch: 1, lossD: 0.7, lossG: 0.8, dReal: 0.5, dFake: 0.4 } });
  directory.manifest.status = 'failed';
  writeFileAtomic(directory.file('summary.csv'), summaryCsv(directory.manifest));
  writeFileAtomic(directory.file('summary.md'), summaryMarkdown(directory.manifest));
  assert.ok(!summaryText(directory.manifest).includes(PASSWORD));
  await parent.finish(directory, 'FAILED');

  const files = readdirSync(directory.path);
  assert.deepEqual(files.sort(), ['manifest.json', 'summary.csv', 'summary.md', 'sweep.yaml', 'trials.json']);
  for (const name of files) assert.ok(!readFileSync(directory.file(name), 'utf8').includes(PASSWORD), `${name} holds the password`);
  // The trials keep their configs, with the URI minus its credentials, and the sweep stays resumable.
  const stored = JSON.parse(readFileSync(directory.file('trials.json'), 'utf8')) as { config: typeof config }[];
  assert.deepEqual(
    stored.map((t) => t.config.tracking.mlflow?.uri),
    [server.uri, server.uri],
  );
  assert.ok(readFileSync(directory.file('summary.md'), 'utf8').includes(`MLflow at ${server.uri} refused the run`));
  assert.equal(SweepDirectory.findLatest(join(dir, 'runs'), config.name, trialsHash(trials))?.path, directory.path);

  const client = new MlflowClient({ trackingUri: server.uri });
  for (const artifact of ['sweep/trials.json', 'sweep/sweep.yaml', 'manifest.json', 'summary.csv', 'summary.md']) {
    const text = (await client.downloadArtifact(parent.runId, artifact)).toString('utf8');
    assert.ok(text.length > 0 && !text.includes(PASSWORD), `artifact ${artifact} holds the password`);
  }
});
