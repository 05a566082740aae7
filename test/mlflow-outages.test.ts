// Live logging through outages a real server shows (made on demand by a proxy on 127.0.0.1): after each, the
// MLflow run holds exactly the run directory, with no manual sync. And `sync` where it meets a server or a run
// that is not ready for it, and a run directory downloaded from MLflow used like the original.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { createTrackers } from '../src/track/create-trackers.ts';
import { metricPoints } from '../src/track/metric-names.ts';
import { MlflowClient } from '../src/track/mlflow/index.ts';
import { readMetricLines, readRunSummary } from '../src/track/run-dir.ts';
import { readSyncState } from '../src/track/mlflow-uploader.ts';
import { sampleGrids } from '../src/track/mlflow-catch-up.ts';
import type { Progress } from '../src/train/progress.ts';
import { train } from '../src/train/trainer.ts';
import { startFlakyProxy, type FlakyProxy } from './support/flaky-proxy.ts';
import { startMlflowServer } from './support/mlflow-server.ts';
import { cliEnv, runCli } from './support/sweep-cli.ts';
import { startSwitchProxy } from './support/switch-proxy.ts';
import { tinyExperiment } from './support/tiny-config.ts';

const server = await startMlflowServer();
after(() => server.stop());
const client = new MlflowClient({ trackingUri: server.uri, maxRetries: 2, backoffFactorMs: 100, backoffJitterMs: 0, timeoutMs: 30_000 });
const silent: Progress = { startEpoch() {}, step() {}, endEpoch() {}, log() {} };
/** Probing a server that went away: quickly, for tests. */
const probing = { probeMinMs: 100, probeMaxMs: 500 };

function tiny(overrides: string[] = []) {
  return tinyExperiment({}, [`tracking.mlflow.experiment=outage-${randomUUID().slice(0, 8)}`, 'train.epochs=3', ...overrides]);
}

/**
 * The MLflow run holds exactly the run directory: every metrics.jsonl line's points, one image per grid, every file
 * of every checkpoint and the pointers, and the final status.
 */
async function assertMirrors(runId: string, runDir: string): Promise<void> {
  const run = await client.getRun(runId);
  const lines = readMetricLines(runDir);
  const expected = new Map<string, string[]>();
  lines.forEach((line, i) => {
    for (const p of metricPoints(line, lines[i - 1])) expected.set(p.key, [...(expected.get(p.key) ?? []), `${p.step}|${p.value}|${p.timestamp}`]);
  });
  assert.deepEqual(run.data.metrics.map((m) => m.key).sort(), [...expected.keys()].sort());
  for (const [key, points] of expected) {
    const history = (await client.getMetricHistory(runId, key)).map((m) => `${m.step}|${m.value}|${m.timestamp}`);
    assert.deepEqual(history.sort(), points.sort(), `${key}: no point missing, none twice`);
  }
  const images = (await client.listArtifacts(runId, 'images')).map((f) => f.path).filter((p) => p.endsWith('.png'));
  assert.deepEqual(
    images.map((p) => Number(/\+step\+(\d+)\+/.exec(p)![1])).sort((a, b) => a - b),
    sampleGrids(runDir).map((g) => g.step),
  );
  const files = await artifactFiles(runId, 'checkpoints');
  for (const [path, size] of Object.entries(files)) assert.equal(size, readFileSync(join(runDir, path)).length, path);
  assert.ok('checkpoints/latest.json' in files);
  assert.equal(Object.keys(files).length, localCheckpointFiles(runDir).length);
  assert.equal(run.info.status, 'FINISHED');
  assert.deepEqual(await client.downloadArtifact(runId, 'metrics.jsonl'), readFileSync(join(runDir, 'metrics.jsonl')));
}

async function artifactFiles(runId: string, path?: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const file of await client.listArtifacts(runId, path)) {
    if (file.is_dir) Object.assign(out, await artifactFiles(runId, file.path));
    else out[file.path] = file.file_size ?? 0;
  }
  return out;
}

function localCheckpointFiles(runDir: string): string[] {
  const dir = join(runDir, 'checkpoints');
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => statSync(join(dir, f)).isFile());
}

/** A run logged live through `proxy`; `onLine` sees the progress lines (`run: <dir>` once the run exists). */
async function liveRun(
  proxy: FlakyProxy,
  options: { overrides?: string[]; env?: Record<string, string>; onLine?: (line: string) => void; onWarn?: (warning: string) => void },
) {
  const { config, file } = tiny(options.overrides);
  const warnings: string[] = [];
  const lines: string[] = [];
  const { trackers, mlflow } = await createTrackers(config, {
    env: { MLFLOW_TRACKING_URI: proxy.uri, ...options.env },
    warn: (w) => (warnings.push(w), options.onWarn?.(w)),
    log: (l) => lines.push(l),
    probing,
  });
  const progress = { ...silent, log: (line: string) => (lines.push(line), options.onLine?.(line)) };
  const result = await train(config, { configFile: file, progress, trackers });
  return { ...result, warnings, lines, runId: mlflow!.tracker.runId! };
}

/** A run trained with no server. */
async function offlineRun(overrides: string[] = []) {
  const { config, file, dir } = tiny(overrides);
  const { runDir, summary } = await train(config, { configFile: file, progress: silent });
  return { runDir, summary, dir };
}

test('429s with Retry-After past the retries: one warning, the server is probed, and the run catches up on its own', async () => {
  const proxy = await startFlakyProxy(server.uri);
  try {
    const run = await liveRun(proxy, {
      onLine: (line) =>
        line.startsWith('run: ') &&
        proxy.failAll({ status: 429, headers: { 'retry-after': '0.2' }, body: '{"error_code":"REQUEST_LIMIT_EXCEEDED","message":"slow down"}' }),
      onWarn: () => proxy.heal(),
    });
    assert.equal(run.summary.status, 'finished');
    assert.equal(run.warnings.length, 1, run.warnings.join('\n'));
    assert.match(run.warnings[0], /^MLflow: lost http:\/\/127\.0\.0\.1:\d+\/ \(.*HTTP 429 REQUEST_LIMIT_EXCEEDED\): slow down \[after 3 attempts\]\)/);
    assert.ok(run.lines.some((l) => /answers again/.test(l)) || readSyncState(run.runDir)!.status === 'FINISHED');
    await assertMirrors(run.runId, run.runDir);
  } finally {
    await proxy.close();
  }
});

test("a stalled server: requests time out, the tracker waits it out, then sends what it missed from the server's state", async () => {
  const proxy = await startFlakyProxy(server.uri);
  try {
    const run = await liveRun(proxy, {
      // A short timeout per request, so the stall is noticed within the test.
      env: { MLFLOW_HTTP_REQUEST_TIMEOUT: '1', MLFLOW_HTTP_REQUEST_MAX_RETRIES: '1' },
      onLine: (line) => line.startsWith('run: ') && proxy.stall(),
      onWarn: () => proxy.heal(),
    });
    assert.equal(run.summary.status, 'finished');
    assert.equal(run.warnings.length, 1, run.warnings.join('\n'));
    assert.match(run.warnings[0], /TIMEOUT.*no response within 1000 ms/);
    await assertMirrors(run.runId, run.runDir);
  } finally {
    await proxy.close();
  }
});

const weightsOfG = /\/generator\/weights\.bin$/;

test('a checkpoint upload held back: metrics and grids keep arriving meanwhile, and the run ends complete', async () => {
  const proxy = await startFlakyProxy(server.uri);
  try {
    // The first checkpoint's generator weights are held until every epoch's metrics and grid are on the server.
    proxy.throttle(0, weightsOfG);
    let runDir = '';
    let metricsDuringUpload = false;
    const watch = setInterval(async () => {
      const state = runDir ? readSyncState(runDir) : undefined;
      if (!state || proxy.uploadsInFlight === 0 || metricsDuringUpload) return;
      const epochs = (await client.getMetricHistory(state.runId, 'epoch/loss_D')).length;
      if (epochs === 3 && Object.keys(state.images).length === 4 && proxy.uploadsInFlight > 0) {
        metricsDuringUpload = true;
        proxy.throttle(undefined);
      }
    }, 50);
    const run = await liveRun(proxy, { onLine: (line) => line.startsWith('run: ') && (runDir = line.slice('run: '.length)) });
    clearInterval(watch);
    assert.ok(metricsDuringUpload, 'all metrics and grids reached the server while the first checkpoint was still uploading');
    assert.deepEqual(run.warnings, []);
    await assertMirrors(run.runId, run.runDir);
  } finally {
    await proxy.close();
  }
});

test('an upload slower than the request timeout: its timeout grows with its size, so a slow link is not a dead server', async () => {
  const { runDir, dir } = await offlineRun(['model.generator.baseChannels=32', 'train.epochs=1']);
  const weights = readFileSync(join(runDir, 'checkpoints', 'epoch-0001', 'generator', 'weights.bin')).length;
  // At 80 kB/s it takes well over the 1 s every other request gets.
  assert.ok(weights / 80_000 > 1.5, `${weights} bytes`);
  const proxy = await startFlakyProxy(server.uri);
  try {
    proxy.throttle(80_000, weightsOfG);
    const synced = await runCli(['sync', runDir, '--uri', proxy.uri], { cwd: dir, env: cliEnv({ MLFLOW_HTTP_REQUEST_TIMEOUT: '1' }) });
    assert.equal(synced.code, 0, synced.stderr);
    await assertMirrors(readSyncState(runDir)!.runId, runDir);
  } finally {
    await proxy.close();
  }
});

test('a server unreachable at start: the run trains with a clear line, creates its MLflow run once the server answers, and ends complete', async () => {
  const link = await startSwitchProxy(server.uri);
  link.down();
  const { config, file } = tiny();
  const warnings: string[] = [];
  try {
    const { trackers, mlflow } = await createTrackers(config, { env: { MLFLOW_TRACKING_URI: link.uri }, warn: (w) => warnings.push(w), probing });
    let epochs = 0;
    const progress = { ...silent, endEpoch: () => ++epochs === 1 && void link.up() };
    const { runDir, summary } = await train(config, { configFile: file, progress, trackers });
    assert.equal(summary.status, 'finished');
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(
      warnings[0],
      new RegExp(
        `^MLflow at ${link.uri}/ unreachable \\(.*ECONNREFUSED.*\\): logging locally; the run keeps trying the server, and \`dcgan-run sync ${runDir}\` uploads later$`,
      ),
    );
    await assertMirrors(mlflow!.tracker.runId!, runDir);
    const { runs } = await client.searchRuns({ experimentIds: [(await client.getRun(mlflow!.tracker.runId!)).info.experiment_id] });
    assert.equal(runs.length, 1, 'one MLflow run');
  } finally {
    link.down();
  }
});

test('sync retries its first request (a 503, then a 429 with Retry-After) like any other', async () => {
  const { runDir, dir } = await offlineRun();
  const proxy = await startFlakyProxy(server.uri);
  try {
    proxy.failNext({ status: 503 }, { status: 429, headers: { 'retry-after': '1' } });
    const synced = await runCli(['sync', runDir, '--uri', proxy.uri], { cwd: dir });
    assert.equal(synced.code, 0, synced.stderr);
    assert.equal(proxy.seen[0].url, proxy.seen[2].url, 'the reachability check, three times');
    assert.match(
      synced.stdout,
      new RegExp(
        `^${runDir}: created the MLflow run and sent params and tags, \\d+ metric points \\(\\d+ metrics.jsonl lines\\), 4 sample grids, \\d+ artifact files, status FINISHED: http`,
      ),
    );
  } finally {
    await proxy.close();
  }
});

test('sync refuses a run whose owner is still training it, with exit code 2', async () => {
  const { runDir, dir } = await offlineRun(['train.epochs=1']);
  const summary = readRunSummary(runDir);
  writeFileSync(
    join(runDir, 'summary.json'),
    JSON.stringify({ ...summary, status: 'running', owner: { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() } }),
  );
  const refused = await runCli(['sync', runDir, '--uri', server.uri], { cwd: dir });
  assert.equal(refused.code, 2, refused.stderr);
  assert.equal(
    refused.stderr.trim(),
    `${runDir} is still training (process ${process.pid} on ${hostname()}): its own tracker sends it to MLflow as it goes and catches up when it ends. Run sync once it has ended (or crashed: \`dcgan-run runs\` shows it)`,
  );
});

test('a stopped run is KILLED with a note; downloaded from MLflow, its run directory works with sample, eval and resume', async () => {
  const { config, file, dir } = tiny(['train.epochs=3']);
  const { trackers, mlflow } = await createTrackers(config, { env: { MLFLOW_TRACKING_URI: server.uri }, warn: assert.fail });
  let steps = 0;
  const { runDir } = await train(config, { configFile: file, progress: { ...silent, step: () => (steps += 1) }, shouldStop: () => steps >= 4, trackers });
  const runId = mlflow!.tracker.runId!;
  const run = await client.getRun(runId);
  assert.equal(run.info.status, 'KILLED');
  assert.equal(run.data.tags.find((t) => t.key === 'mlflow.note.content')?.value, `Stopped at epoch 2, step 1/3. Continue it with: dcgan-run resume ${runDir}`);

  // What `mlflow artifacts download` gives: every artifact under its path.
  const downloaded = join(dir, 'downloaded', 'tiny', 'run');
  for (const path of Object.keys(await artifactFiles(runId))) {
    mkdirSync(dirname(join(downloaded, path)), { recursive: true });
    writeFileSync(join(downloaded, path), await client.downloadArtifact(runId, path));
  }
  const env = cliEnv();
  const sampled = await runCli(['sample', downloaded, '--count', '4', '--out', join(dir, 'grid.png')], { cwd: dir, env });
  assert.equal(sampled.code, 0, sampled.stderr);
  const evaluated = await runCli(['eval', downloaded, '--samples', '20'], { cwd: dir, env });
  assert.equal(evaluated.code, 0, evaluated.stderr);
  const resumed = await runCli(['resume', downloaded], { cwd: dir, env });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(readRunSummary(downloaded).status, 'finished');
  assert.equal(readRunSummary(downloaded).epochsDone, 3);
});
