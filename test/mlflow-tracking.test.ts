// Runs logged to a real MLflow server: live, through faults, and caught up afterwards by `sync`.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { userInfo } from 'node:os';
import { prepareResume } from '../src/train/resume.ts';
import { latestCheckpoint } from '../src/track/run-checkpoints.ts';
import { train } from '../src/train/trainer.ts';
import type { Progress } from '../src/train/progress.ts';
import { UserError } from '../src/errors.ts';
import { MlflowClient, type MlflowRun } from '../src/track/mlflow/index.ts';
import { createTrackers } from '../src/track/create-trackers.ts';
import { connectMlflow, SYNC_RETRIES } from '../src/track/mlflow-connect.ts';
import { readSyncState, SYNC_STATE_FILE } from '../src/track/mlflow-uploader.ts';
import { syncRunDir, type SyncReport } from '../src/track/mlflow-sync.ts';
import { readRunFacts } from '../src/track/run-facts.ts';
import { readMetrics } from '../src/track/run-dir.ts';
import type { RunSummary } from '../src/track/run-types.ts';
import { closedPort } from './support/closed-port.ts';
import { startFlakyProxy } from './support/flaky-proxy.ts';
import { startSwitchProxy } from './support/switch-proxy.ts';
import { startMlflowServer } from './support/mlflow-server.ts';
import { PROJECT_ROOT, tinyExperiment } from './support/tiny-config.ts';

const server = await startMlflowServer();
after(() => server.stop());
const client = new MlflowClient({ trackingUri: server.uri, maxRetries: 2, backoffFactorMs: 100, backoffJitterMs: 0, timeoutMs: 30_000 });

const silent: Progress = { startEpoch() {}, step() {}, endEpoch() {}, log() {} };
const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
const NO_MLFLOW_ENV: NodeJS.ProcessEnv = {};
/** Put in a tracking URI by one test; must reach no file, message or server. */
const CREDENTIALS = 'alice:s3cret-pw@';

function tiny(overrides: string[] = []) {
  const experiment = unique('tracking');
  return { experiment, ...tinyExperiment({}, [`tracking.mlflow.experiment=${experiment}`, ...overrides]) };
}

const summaryOf = (runDir: string) => JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as RunSummary;
const kv = (pairs: { key: string; value: string }[]) => Object.fromEntries(pairs.map((p) => [p.key, p.value]));

async function listRecursive(runId: string, path?: string): Promise<Record<string, number | undefined>> {
  const out: Record<string, number | undefined> = {};
  for (const file of await client.listArtifacts(runId, path)) {
    if (file.is_dir) Object.assign(out, await listRecursive(runId, file.path));
    else out[file.path] = file.file_size;
  }
  return out;
}

function localFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => statSync(join(dir, f)).isFile()).sort();
}

/** What the server has of a run, for before/after comparisons. */
async function snapshot(runId: string) {
  const run = await client.getRun(runId);
  const histories: Record<string, unknown> = {};
  for (const key of run.data.metrics.map((m) => m.key).sort()) histories[key] = await client.getMetricHistory(runId, key);
  return {
    status: run.info.status,
    startTime: run.info.start_time,
    endTime: run.info.end_time,
    params: kv(run.data.params),
    tags: kv(run.data.tags),
    histories,
    artifacts: await listRecursive(runId),
  };
}

/** Asserts the server has all of the run directory: params, tags, every metric point, images, artifacts, status. */
async function assertComplete(runId: string, runDir: string, configFile: string): Promise<MlflowRun> {
  const run = await client.getRun(runId);
  const summary = summaryOf(runDir);

  // Params: the key hyperparameters under short names; the whole config is config.yaml and config.json.
  const params = kv(run.data.params);
  const config = readRunFacts(runDir, summary).config;
  assert.deepEqual(params, {
    epochs: String(config.train.epochs),
    batch_size: String(config.data.batchSize),
    lr_G: String(config.train.optimizers.generator.learningRate),
    lr_D: String(config.train.optimizers.discriminator.learningRate),
  });
  assert.deepEqual(
    JSON.parse((await client.downloadArtifact(runId, 'config.json')).toString()),
    JSON.parse(JSON.stringify(config).replaceAll(CREDENTIALS, '')),
  );

  const tags = kv(run.data.tags);
  assert.equal(tags['mlflow.runName'], summary.runId);
  assert.equal(run.info.run_name, summary.runId);
  assert.equal(tags['mlflow.user'], userInfo().username);
  assert.equal(run.info.user_id, userInfo().username);
  assert.equal(tags['mlflow.source.name'], resolve(configFile));
  assert.equal(tags['mlflow.source.type'], 'LOCAL');
  assert.equal(tags['dcgan.configFile'], resolve(configFile));
  assert.equal(tags['dcgan.seed'], '7');
  assert.equal(tags['dcgan.runDir'], resolve(runDir));
  assert.equal(tags['mlflow.loggedImages'], 'True');
  assert.equal(tags['dcgan.version.tfjs'], summary.versions.tfjs);
  assert.equal(tags['dcgan.backend'], 'cpu');
  assert.equal(tags['dcgan.datasetSize'], String(config.data.limit));

  // Every point of metrics.jsonl, exactly: steps, values and timestamps.
  const records = readMetrics(runDir);
  const steps = records.filter((r) => r.type === 'step');
  const epochs = records.filter((r) => r.type === 'epoch');
  const expected: Record<string, { step: number; value: number; timestamp: number }[]> = {};
  const names = { lossD: 'D', lossG: 'G', dReal: 'D_real', dFake: 'D_fake' } as const;
  for (const [field, name] of Object.entries(names) as [keyof typeof names, string][]) {
    expected[`losses/${name}`] = steps.map((r) => ({ step: r.step, value: r[field], timestamp: r.time }));
    expected[`epoch/${name.length === 1 ? `loss_${name}` : name}`] = epochs.map((r) => ({ step: r.epoch, value: r[field], timestamp: r.time }));
  }
  // The speed once per logging window (its steps share the time of the window's end), at the window's first step.
  expected['throughput/images_per_sec'] = steps
    .filter((r, i) => i === 0 || steps[i - 1].time !== r.time || steps[i - 1].imagesPerSec !== r.imagesPerSec)
    .map((r) => ({ step: r.step, value: r.imagesPerSec, timestamp: r.time }));
  expected['throughput/epoch_images_per_sec'] = epochs.map((r) => ({ step: r.epoch, value: r.imagesPerSec, timestamp: r.time }));
  expected['throughput/epoch_seconds'] = epochs.map((r) => (r.type === 'epoch' ? { step: r.epoch, value: r.epochSeconds, timestamp: r.time } : assert.fail()));
  // Every epoch draws a grid here (train.samples.every 1): its spreads against real images.
  for (const [field, key] of [
    ['pixels', 'epoch/sample_spread_pixels'],
    ['colours', 'epoch/sample_spread_colours'],
  ] as const) {
    expected[key] = epochs.map((r) =>
      r.type === 'epoch' && r.sampleSpread ? { step: r.epoch, value: r.sampleSpread[field], timestamp: r.time } : assert.fail(),
    );
  }
  for (const [key, points] of Object.entries(expected)) {
    const history = (await client.getMetricHistory(runId, key))
      .map((m) => ({ step: m.step, value: m.value, timestamp: m.timestamp }))
      .sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
    assert.equal(history.length, points.length, `${key}: ${history.length} points on the server, ${points.length} in metrics.jsonl`);
    assert.deepEqual(history, points, key);
  }
  assert.deepEqual(run.data.metrics.map((m) => m.key).sort(), Object.keys(expected).sort());

  // One image (PNG + WebP preview) per sample grid, with the epoch as its step; the untrained generator's at step 0.
  const artifacts = await listRecursive(runId);
  const images = Object.keys(artifacts).filter((p) => p.startsWith('images/'));
  const samples = readdirSync(join(runDir, 'samples'))
    .sort()
    .map((name) => ({ step: Number(/^epoch-(\d+)\.png$/.exec(name)![1]), path: join(runDir, 'samples', name) }));
  if (existsSync(join(runDir, 'samples-untrained.png'))) samples.unshift({ step: 0, path: join(runDir, 'samples-untrained.png') });
  assert.equal(images.length, 2 * samples.length, images.join('\n'));
  for (const { step, path } of samples) {
    const png = images.filter((p) => new RegExp(`^images/samples\\+step\\+${step}\\+timestamp\\+\\d+\\+[0-9a-f-]+\\.png$`).test(p));
    assert.equal(png.length, 1, `step ${step}: ${images.join(', ')}`);
    assert.ok(images.includes(png[0].replace(/\.png$/, '+compressed.webp')));
    assert.deepEqual(await client.downloadArtifact(runId, png[0]), readFileSync(path));
  }

  // The run's files, byte for byte, and every checkpoint file with its path.
  for (const name of ['config.yaml', 'losses.png', 'summary.json', 'metrics.jsonl', 'run-info.json', 'checkpoints/latest.json']) {
    const local = readFileSync(join(runDir, name));
    const sent = name === 'config.yaml' ? Buffer.from(local.toString('utf8').replaceAll(CREDENTIALS, '')) : local;
    assert.deepEqual(await client.downloadArtifact(runId, name), sent, name);
  }
  const checkpoints = readdirSync(join(runDir, 'checkpoints')).filter((n) => n.startsWith('epoch-'));
  assert.ok(checkpoints.length > 0);
  const expectedCheckpoints = Object.fromEntries(
    localFiles(join(runDir, 'checkpoints')).map((f) => [`checkpoints/${f}`, statSync(join(runDir, 'checkpoints', f)).size]),
  );
  assert.deepEqual(Object.fromEntries(Object.entries(artifacts).filter(([p]) => p.startsWith('checkpoints/'))), expectedCheckpoints);
  assert.ok(Object.keys(expectedCheckpoints).some((p) => p.endsWith('/generator/weights.bin')));

  const status = { finished: 'FINISHED', failed: 'FAILED', stopped: 'KILLED', running: 'RUNNING' }[summary.status];
  assert.equal(run.info.status, status);
  assert.ok(run.info.end_time! >= run.info.start_time!);
  return run;
}

const nothingSent = (report: SyncReport) => ({
  ...report,
  created: false,
  adopted: false,
  described: false,
  points: 0,
  images: 0,
  files: 0,
  status: undefined,
});

test('a run logs its params, tags, every metric point, sample grids, artifacts and status', async () => {
  // Through a proxy that counts requests; credentials in the URI and a token must reach no file, message or param.
  const proxy = await startFlakyProxy(server.uri);
  const uri = proxy.uri.replace('http://', `http://${CREDENTIALS}`);
  const { experiment, config, file, dir } = tiny(['data.limit=40', 'data.batchSize=4', `tracking.mlflow.uri=${uri}`]);
  execFileSync('git', ['init', '-q'], { cwd: dir });
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '--allow-empty', '-m', 'x'], { cwd: dir });
  const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim();

  const warnings: string[] = [];
  const lines: string[] = [];
  const started = Date.now();
  try {
    const { trackers, mlflow } = await createTrackers(config, {
      env: { MLFLOW_TRACKING_TOKEN: 'tok-s3cret' },
      warn: (w) => warnings.push(w),
      log: (l) => lines.push(l),
    });
    assert.equal(mlflow?.source, 'tracking.mlflow.uri');
    const { runDir, summary } = await train(config, { configFile: file, progress: silent, trackers });
    const elapsed = Date.now() - started;
    assert.equal(summary.status, 'finished');
    assert.deepEqual(warnings, []);

    const state = readSyncState(runDir)!;
    assert.equal(state.runId, mlflow!.tracker.runId);
    assert.deepEqual(
      { metricLines: state.metricLines, status: state.status, described: state.described, images: Object.keys(state.images).length },
      { metricLines: readMetrics(runDir).length, status: 'FINISHED', described: true, images: 3 },
    );
    for (const name of [SYNC_STATE_FILE, 'run-info.json']) {
      const text = readFileSync(join(runDir, name), 'utf8');
      assert.ok(!text.includes('s3cret') && !text.includes('alice'), `${name} holds no credentials`);
    }
    assert.ok(lines.every((l) => !l.includes('s3cret')) && lines.some((l) => l.includes(state.runId)), lines.join('\n'));
    assert.ok(
      proxy.seen.every((r) => r.headers.authorization?.startsWith('Basic ')),
      'basic auth from the URI is sent',
    );

    const run = await assertComplete(state.runId, runDir, file);
    assert.equal(run.info.experiment_id, (await client.getExperimentByName(experiment))!.experiment_id);
    assert.equal(kv(run.data.tags)['mlflow.source.git.commit'], commit);
    assert.equal(run.info.start_time, Date.parse(summary.startedAt));
    const everything = JSON.stringify(run.data) + (await client.downloadArtifact(state.runId, 'config.yaml')).toString();
    assert.ok(!everything.includes('s3cret'), 'no credentials on the server');

    // Batched: 20 steps and 2 epochs (110 points) in a handful of log-batch requests.
    const batches = proxy.seen.filter((r) => r.url.includes('runs/log-batch')).length;
    assert.ok(batches <= 6, `${batches} log-batch requests for ${summary.steps} steps`);
    process.stderr.write(`# live run with MLflow: ${elapsed} ms, ${proxy.seen.length} requests (${batches} log-batch)\n`);
  } finally {
    await proxy.close();
  }
});

test('a failed run ends FAILED with its error; a stopped run ends KILLED', async () => {
  {
    const { config, file } = tiny();
    const warnings: string[] = [];
    const { trackers, mlflow } = await createTrackers(config, { env: { MLFLOW_TRACKING_URI: server.uri }, warn: (w) => warnings.push(w) });
    assert.equal(mlflow?.source, 'MLFLOW_TRACKING_URI');
    const failing: Progress = {
      ...silent,
      endEpoch: () => {
        throw new Error('injected failure: the loss went to the moon');
      },
    };
    await assert.rejects(train(config, { configFile: file, progress: failing, trackers }), /injected failure/);
    assert.deepEqual(warnings, []);
    const run = await client.getRun(mlflow!.tracker.runId!);
    assert.equal(run.info.status, 'FAILED');
    assert.equal(kv(run.data.tags)['dcgan.error'], 'injected failure: the loss went to the moon');
    assert.ok(run.info.end_time);
    const artifacts = await listRecursive(run.info.run_id);
    assert.ok('config.yaml' in artifacts && 'summary.json' in artifacts);
  }
  {
    const { config, file } = tiny(['train.epochs=5', 'train.checkpoint.every=5']);
    const { trackers, mlflow } = await createTrackers(config, { env: { MLFLOW_TRACKING_URI: server.uri }, warn: assert.fail });
    let steps = 0;
    const { runDir, summary } = await train(config, {
      configFile: file,
      progress: { ...silent, step: () => (steps += 1) },
      shouldStop: () => steps >= 4,
      trackers,
    });
    assert.equal(summary.status, 'stopped');
    const run = await assertComplete(mlflow!.tracker.runId!, runDir, file);
    assert.equal(run.info.status, 'KILLED');
    assert.equal(kv(run.data.tags)['dcgan.error'], undefined);
  }
});

test('a server lost mid-run and still away at the end: training finishes locally, the warnings name sync, which uploads the rest and again sends nothing', async () => {
  const { config, file } = tiny(['train.epochs=3', 'data.limit=40', 'data.batchSize=4']);
  const link = await startSwitchProxy(server.uri);
  let poll: NodeJS.Timeout | undefined;
  try {
    const warnings: string[] = [];
    const probing = { probeMinMs: 100, finalWaitMs: 0 };
    const { trackers, mlflow } = await createTrackers(config, { env: { MLFLOW_TRACKING_URI: link.uri }, warn: (w) => warnings.push(w), probing });
    // The server goes away once epoch 1 is on it (its checkpoint uploaded), or at the latest when epoch 2 ends.
    let cutAt = '';
    let epochs = 0;
    const cut = (when: string) => {
      if (cutAt) return;
      cutAt = when;
      clearInterval(poll);
      link.down();
    };
    const watch = (line: string) => {
      const runDir = /^run: (.+)$/.exec(line)?.[1];
      if (!runDir) return;
      poll = setInterval(() => {
        if (readSyncState(runDir)?.artifacts['checkpoints/epoch-0001/state.json']) cut(`after epoch 1's uploads, in epoch ${epochs + 1}`);
      }, 10);
    };
    const started = Date.now();
    const { runDir, summary } = await train(config, {
      configFile: file,
      progress: { ...silent, log: watch, endEpoch: () => ++epochs === 2 && cut('at the end of epoch 2') },
      trackers,
    });
    const elapsed = Date.now() - started;
    assert.equal(summary.status, 'finished');
    assert.equal(summary.epochsDone, 3);
    assert.equal(warnings.length, 2, warnings.join('\n'));
    assert.match(
      warnings[0],
      /^MLflow: lost http:\/\/127\.0\.0\.1:\d+\/ \(.*ECONNREFUSED.*\)\. Training goes on and the run directory keeps everything; sending resumes from where the server stopped once it answers$/s,
    );
    assert.equal(
      warnings[1].replace(/\(.*\)/s, '(...)'),
      `MLflow: ${link.uri}/ is still away at the end of the run (...); the run directory has everything: upload the rest with: dcgan-run sync ${runDir}`,
    );
    assert.ok(elapsed < 20_000, `the run took ${elapsed} ms with the server gone`);

    const runId = mlflow!.tracker.runId!;
    const before = await client.getRun(runId);
    assert.equal(before.info.status, 'RUNNING', 'the status was not set while the server was away');
    const sent = readSyncState(runDir)!;
    assert.ok(sent.metricLines < readMetrics(runDir).length);
    process.stderr.write(
      `# server cut ${cutAt}: run took ${elapsed} ms; the state had ${sent.metricLines}/${readMetrics(runDir).length} metric lines, ` +
        `${Object.keys(sent.images).length} images, ${Object.keys(sent.artifacts).length} files\n`,
    );

    // The server is back; sync sends the rest to the address the run used.
    await link.up();
    const report = await syncRunDir(
      runDir,
      await connectMlflow({ uri: readSyncState(runDir)!.trackingUri, source: 'test' }, { retries: SYNC_RETRIES, env: NO_MLFLOW_ENV }),
    );
    assert.equal(report.runId, runId);
    assert.equal(report.created, false);
    assert.ok(report.points > 0 && report.images > 0 && report.files > 0 && report.status === 'FINISHED', JSON.stringify(report));
    process.stderr.write(`# sync after the cut: ${report.metricLines} lines (${report.points} points), ${report.images} images, ${report.files} files\n`);
    await assertComplete(runId, runDir, file);

    // Again: nothing is sent, nothing changes.
    const snap = await snapshot(runId);
    const again = await syncRunDir(runDir, await connectMlflow({ uri: link.uri, source: 'test' }, { retries: SYNC_RETRIES, env: NO_MLFLOW_ENV }));
    assert.deepEqual(again, nothingSent(again));
    assert.deepEqual(await snapshot(runId), snap);

    // Under another address of the same server (the state names the first): the run is found by its tags, nothing duplicated.
    const other = await syncRunDir(runDir, client);
    assert.equal(other.runId, runId);
    assert.equal(other.adopted, true);
    assert.equal(other.points + other.images, 0, JSON.stringify(other));
    assert.deepEqual(await snapshot(runId), snap);
  } finally {
    clearInterval(poll);
    link.down();
  }
});

test('a server answering errors past the retries: one warning, training goes on, the tracker catches up on its own', async () => {
  const { config, file } = tiny();
  const proxy = await startFlakyProxy(server.uri);
  try {
    const warnings: string[] = [];
    const lines: string[] = [];
    const warn = (w: string) => {
      warnings.push(w);
      proxy.heal();
    };
    const { trackers, mlflow } = await createTrackers(config, { env: { MLFLOW_TRACKING_URI: proxy.uri }, warn, probing: { probeMinMs: 100 } });
    // Once the run exists, its next request fails on every attempt (1 + 2 retries).
    // Once the run exists every request fails, until the tracker says it lost the server.
    const failAfterStart = (line: string) => {
      lines.push(line);
      if (line.startsWith('run: ')) proxy.failAll({ status: 503 });
    };
    const { runDir, summary } = await train(config, { configFile: file, progress: { ...silent, log: failAfterStart }, trackers });
    assert.equal(summary.status, 'finished');
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /HTTP 503.*after 3 attempts/);
    assert.ok(lines.some((l) => /answers again/.test(l)) || readSyncState(runDir)!.status === 'FINISHED', lines.join('\n'));
    await assertComplete(mlflow!.tracker.runId!, runDir, file);
  } finally {
    await proxy.close();
  }
});

test('a crash between a request and the state write: sync checks the server and re-sends nothing twice', async () => {
  const { config, file } = tiny();
  const { trackers, mlflow } = await createTrackers(config, { env: { MLFLOW_TRACKING_URI: server.uri }, warn: assert.fail });
  const { runDir } = await train(config, { configFile: file, progress: silent, trackers });
  const runId = mlflow!.tracker.runId!;
  const snap = await snapshot(runId);
  // The state as it would be had the process died right after the first request: only the run is known.
  const state = readSyncState(runDir)!;
  const stale = { ...state, described: false, metricLines: 0, images: {}, artifacts: {}, status: null };
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(runDir, SYNC_STATE_FILE), JSON.stringify(stale));
  const report = await syncRunDir(runDir, client);
  assert.equal(report.points + report.images, 0, JSON.stringify(report));
  assert.ok(Object.keys(snap.artifacts).filter((p) => p.startsWith('checkpoints/')).length > 0);
  assert.equal(
    report.files,
    6,
    'only the small run files (config.yaml, losses.png, metrics.jsonl, run-info.json, summary.json, checkpoints/latest.json) are sent again',
  );
  assert.deepEqual(await snapshot(runId), snap);
  await assertComplete(runId, runDir, file);
});

test('a run made with no server: sync creates the MLflow run with its whole history', async () => {
  const { experiment, config, file } = tiny();
  const { trackers, mlflow } = await createTrackers(config, { env: NO_MLFLOW_ENV, warn: assert.fail });
  assert.equal(mlflow, undefined);
  const { runDir, summary } = await train(config, { configFile: file, progress: silent, trackers });
  assert.ok(!existsSync(join(runDir, SYNC_STATE_FILE)));

  const report = await syncRunDir(runDir, client);
  assert.equal(report.created, true);
  assert.equal(report.status, 'FINISHED');
  const run = await assertComplete(report.runId, runDir, file);
  assert.equal(run.info.experiment_id, (await client.getExperimentByName(experiment))!.experiment_id);
  assert.equal(run.info.start_time, Date.parse(summary.startedAt));
  assert.equal(run.info.end_time, Math.round(Date.parse(summary.startedAt) + summary.wallSeconds * 1000));

  const snap = await snapshot(report.runId);
  const again = await syncRunDir(runDir, client);
  assert.deepEqual(again, nothingSent(again));
  assert.deepEqual(await snapshot(report.runId), snap);
  const { runs } = await client.searchRuns({ experimentIds: [run.info.experiment_id] });
  assert.equal(runs.length, 1);
});

/** A 3-epoch tiny run logged live to the server, stopped (Ctrl-C) after step 4 of 9. */
async function loggedRunStoppedAtStep4() {
  const { config, file } = tiny(['train.epochs=3']);
  const { trackers, mlflow } = await createTrackers(config, { env: { MLFLOW_TRACKING_URI: server.uri }, warn: assert.fail });
  let steps = 0;
  const stopped = await train(config, { configFile: file, progress: { ...silent, step: () => (steps += 1) }, shouldStop: () => steps >= 4, trackers });
  return { config, file, stopped, runId: mlflow!.tracker.runId! };
}

test('a run resumed after a crash sends no second point for the steps the server got after its checkpoint', async () => {
  const { config, file, stopped, runId } = await loggedRunStoppedAtStep4();
  // A crash between the live upload of step 4 and its checkpoint: only the epoch-1 checkpoint (step 3) is left.
  rmSync(latestCheckpoint(stopped.runDir), { recursive: true });
  writeFileSync(join(stopped.runDir, 'checkpoints', 'latest.json'), JSON.stringify({ checkpoint: 'epoch-0001', epoch: 1, step: 3 }));
  const before = await client.getMetricHistory(runId, 'losses/D');
  assert.deepEqual(
    before.map((m) => m.step).sort((a, b) => a - b),
    [1, 2, 3, 4],
  );

  const second = await createTrackers(config, { env: { MLFLOW_TRACKING_URI: server.uri }, warn: assert.fail });
  const resumed = await train(config, { configFile: file, progress: silent, trackers: second.trackers, resume: prepareResume(stopped.runDir, config) });
  assert.equal(resumed.summary.status, 'finished');
  const after = await client.getMetricHistory(runId, 'losses/D');
  assert.deepEqual(
    after.map((m) => m.step).sort((a, b) => a - b),
    [1, 2, 3, 4, 5, 6, 7, 8, 9],
    'step 4 once',
  );
  const local = readMetrics(resumed.runDir).filter((r) => r.type === 'step');
  for (const point of after) assert.equal(point.value, local.find((r) => r.step === point.step)!.lossD, `step ${point.step}`);
});

/** G frozen (learning rate 1e-6) against a fast D: D wins within a few epochs and the frozen G's grid stays near-constant. */
const LOSING_GENERATOR = [
  'train.epochs=10',
  'train.samples.count=8',
  'train.optimizers.generator={kind: adam, learningRate: 0.000001}',
  'train.optimizers.discriminator={kind: adam, learningRate: 0.02}',
];

test('training warnings reach the progress output, summary.json and MLflow tags, live and through sync', async () => {
  const live = tiny(LOSING_GENERATOR);
  const { trackers } = await createTrackers(live.config, { env: { MLFLOW_TRACKING_URI: server.uri }, warn: assert.fail });
  const lines: string[] = [];
  const { runDir, summary } = await train(live.config, { configFile: live.file, progress: { ...silent, log: (l) => lines.push(l) }, trackers });
  assert.deepEqual(summary.warnings?.map((w) => w.kind).sort(), ['discriminatorWins', 'modeCollapse']);
  const wins = summary.warnings!.find((w) => w.kind === 'discriminatorWins')!;
  assert.match(wins.message, /^the discriminator has won outright for 3 epochs \(loss D [\d.e-]+, D\(x\) 0\.9\d\d, D\(G\(z\)\) 0\.0\d\d\)/);
  assert.ok(lines.includes(`warning: ${wins.message}`), lines.join('\n'));
  assert.deepEqual(summaryOf(runDir).warnings, summary.warnings);
  const tags = kv((await client.getRun(readSyncState(runDir)!.runId)).data.tags);
  assert.equal(tags['dcgan.warning.discriminatorWins'], `epoch ${wins.epoch}: ${wins.message}`);
  assert.match(tags['dcgan.warning.modeCollapse']!, /^epoch \d+: mode collapse: the fixed-noise samples have been nearly identical/);

  const offline = tiny(LOSING_GENERATOR);
  const { runDir: offlineDir, summary: offlineSummary } = await train(offline.config, { configFile: offline.file, progress: silent });
  const report = await syncRunDir(offlineDir, client);
  const synced = kv((await client.getRun(report.runId)).data.tags);
  for (const w of offlineSummary.warnings!) assert.equal(synced[`dcgan.warning.${w.kind}`], `epoch ${w.epoch}: ${w.message}`);
});

test('an unreachable tracking URI with tracking.mlflow.required fails at start, in seconds, with the URI and the cause', async () => {
  const port = await closedPort();
  const { config } = tiny([`tracking.mlflow.uri=http://bob:hunter2@127.0.0.1:${port}`, 'tracking.mlflow.required=true']);
  const started = Date.now();
  await assert.rejects(createTrackers(config, { env: NO_MLFLOW_ENV, warn: assert.fail }), (error: Error) => {
    assert.ok(error instanceof UserError, String(error));
    assert.match(error.message, new RegExp(`MLflow tracking server at http://127\\.0\\.0\\.1:${port}/ \\(tracking\\.mlflow\\.uri\\).*ECONNREFUSED`));
    assert.ok(!error.message.includes('hunter2'), error.message);
    return true;
  });
  assert.ok(Date.now() - started < 5_000, `${Date.now() - started} ms`);

  // Not an MLflow server (answers, but 404): also a clear error at start.
  const { config: notMlflow } = tiny([`tracking.mlflow.uri=${server.uri}/not-mlflow`]);
  await assert.rejects(
    createTrackers(notMlflow, { env: NO_MLFLOW_ENV, warn: assert.fail }),
    (error: Error) => error instanceof UserError && /404/.test(error.message),
  );
});

function runCli(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  const env = { ...process.env };
  delete env.MLFLOW_TRACKING_URI;
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin/dcgan-run.js'), ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((done) => child.on('close', (code) => done({ code, stdout, stderr, ms: Date.now() - started })));
}

const STACK = /^\s+at .+:\d+:\d+\)?$/m;

test('the CLI logs a run to MLflow, syncs it, and rejects a wrong URI with exit code 2', async () => {
  const { experiment, file, dir } = tiny();
  // tinyExperiment's overrides are not in the file: the CLI gets the experiment name with --set too.
  const ok = await runCli([file, '--set', `tracking.mlflow.uri=${server.uri}`, '--set', `tracking.mlflow.experiment=${experiment}`], dir);
  assert.equal(ok.code, 0, ok.stderr);
  assert.doesNotMatch(ok.stdout + ok.stderr, STACK);
  const experimentId = (await client.getExperimentByName(experiment))!.experiment_id;
  const { runs } = await client.searchRuns({ experimentIds: [experimentId] });
  assert.equal(runs.length, 1);
  const runDir = kv(runs[0].data.tags)['dcgan.runDir'];
  assert.ok(ok.stderr.includes(runs[0].info.run_id), 'the run address is printed');
  await assertComplete(runs[0].info.run_id, runDir, file);

  const sync = await runCli(['sync', relative(dir, runDir)], dir);
  assert.equal(sync.code, 0, sync.stderr);
  assert.match(sync.stdout, /the server has everything/);

  const port = await closedPort();
  const bad = await runCli([file, '--set', `tracking.mlflow.uri=http://127.0.0.1:${port}`, '--set', 'tracking.mlflow.required=true'], dir);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, new RegExp(`127\\.0\\.0\\.1:${port}.*ECONNREFUSED`));
  assert.doesNotMatch(bad.stdout + bad.stderr, STACK);
  // Not required: the run trains, logging locally, and says how to upload it later.
  const away = await runCli([file, '--set', `tracking.mlflow.uri=http://127.0.0.1:${port}`, '--set', 'train.epochs=1'], dir);
  assert.equal(away.code, 0, away.stderr);
  const awayDir = /run: (.+)/.exec(away.stderr + away.stdout)![1].trim();
  assert.match(
    away.stderr,
    new RegExp(
      `MLflow at http://127\\.0\\.0\\.1:${port}/ unreachable \\(.*ECONNREFUSED.*\\): logging locally; the run keeps trying the server, and \`dcgan-run sync ${awayDir.replaceAll('/', '\\/')}\` uploads later`,
    ),
  );
  assert.doesNotMatch(away.stdout + away.stderr, STACK);
  const badSync = await runCli(['sync', runDir, '--uri', `http://127.0.0.1:${port}`], dir);
  assert.equal(badSync.code, 2, badSync.stderr);
  assert.doesNotMatch(badSync.stderr, STACK);
  process.stderr.write(`# CLI: run ${ok.ms} ms, sync ${sync.ms} ms, wrong URI ${bad.ms} ms\n`);
});

test('a resumed run reattaches its MLflow run: the same run id, RUNNING again, metrics from the next step, no point twice, then FINISHED', async () => {
  const { config, file, stopped, runId } = await loggedRunStoppedAtStep4();
  assert.equal((await client.getRun(runId)).info.status, 'KILLED');
  assert.deepEqual(
    (await client.getMetricHistory(runId, 'losses/D')).map((m) => m.step).sort((a, b) => a - b),
    [1, 2, 3, 4],
  );

  const second = await createTrackers(config, { env: { MLFLOW_TRACKING_URI: server.uri }, warn: assert.fail });
  let statusWhileTraining: Promise<string> | undefined;
  const resumed = await train(config, {
    configFile: file,
    progress: { ...silent, step: () => (statusWhileTraining ??= client.getRun(runId).then((run) => run.info.status)) },
    trackers: second.trackers,
    resume: prepareResume(stopped.runDir, config),
  });
  assert.equal(second.mlflow!.tracker.runId, runId, 'the same MLflow run');
  assert.equal(await statusWhileTraining, 'RUNNING');
  assert.equal(resumed.summary.status, 'finished');
  const run = await assertComplete(runId, resumed.runDir, file);
  assert.equal(run.info.status, 'FINISHED');
  assert.deepEqual(
    (await client.getMetricHistory(runId, 'losses/D')).map((m) => m.step).sort((a, b) => a - b),
    [1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  assert.deepEqual(
    (await client.searchRuns({ experimentIds: [run.info.experiment_id] })).runs.map((r) => r.info.run_id),
    [runId],
    'no second MLflow run',
  );
});

test("a run's HTML report (train.report) reaches MLflow with the run, live and through sync, file for file", async () => {
  const live = tiny(['train.epochs=1', 'train.report=true']);
  const { trackers, mlflow } = await createTrackers(live.config, { env: { MLFLOW_TRACKING_URI: server.uri }, warn: assert.fail });
  const { runDir } = await train(live.config, { configFile: live.file, progress: silent, trackers });
  const reportFiles = localFiles(join(runDir, 'report'));
  assert.ok(reportFiles.includes('index.html'));
  const uploaded = await listRecursive(mlflow!.tracker.runId!, 'report');
  assert.deepEqual(Object.keys(uploaded).sort(), reportFiles.map((f) => `report/${f}`).sort());
  for (const f of reportFiles) assert.equal(uploaded[`report/${f}`], statSync(join(runDir, 'report', f)).size, f);

  const offline = tiny(['train.epochs=1', 'train.report=true']);
  const { runDir: offlineDir } = await train(offline.config, { configFile: offline.file, progress: silent });
  const synced = await syncRunDir(offlineDir, client);
  const files = await listRecursive(synced.runId, 'report');
  assert.deepEqual(
    Object.keys(files).sort(),
    localFiles(join(offlineDir, 'report'))
      .map((f) => `report/${f}`)
      .sort(),
  );
});
