// Crashed is not running: a real training process killed with SIGKILL is shown as crashed by `runs`, `sample`,
// `eval` and `sync` (which marks its MLflow run FAILED), a live one as running; another host's run is judged
// by its heartbeat, a reused pid by its start time.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runsTable } from '../src/cli/runs.ts';
import { MlflowClient } from '../src/track/mlflow/index.ts';
import { readSyncState } from '../src/track/mlflow-uploader.ts';
import type { RunSummary } from '../src/track/run-types.ts';
import { currentOwner, HEARTBEAT_FILE, readHeartbeat, STALE_MS } from '../src/track/run-owner.ts';
import { readRunState } from '../src/track/run-state.ts';
import { startMlflowServer, type MlflowTestServer } from './support/mlflow-server.ts';
import { cliEnv, runCli, startCli, waitFor } from './support/sweep-cli.ts';
import { PROJECT_ROOT, tinyExperiment } from './support/tiny-config.ts';

let server: MlflowTestServer;
before(async () => {
  server = await startMlflowServer();
});
after(async () => {
  await server?.stop();
});

const readSummary = (runDir: string) => JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as RunSummary;

test('a training process killed with SIGKILL is crashed for runs, sample, eval and sync; sync marks it FAILED', async () => {
  const { file, dir } = tinyExperiment({ name: 'crash', train: { epochs: 500, samples: { count: 4 }, checkpoint: { every: 1 }, logEvery: 1, backend: 'cpu' } });
  const runs = join(dir, 'runs');
  const cli = startCli(['run', file, '--quiet'], { cwd: dir });
  const pid = cli.child.pid!;
  let runDir = '';
  try {
    runDir = await waitFor(
      'an epoch done',
      () => {
        const [runId] = existsSync(join(runs, 'crash')) ? readdirSync(join(runs, 'crash')) : [];
        const path = runId && join(runs, 'crash', runId);
        return path && readSummary(path).epochsDone >= 1 && existsSync(join(path, 'checkpoints', 'latest.json')) ? path : undefined;
      },
      120_000,
      cli.output,
    );

    // Alive: running, owned by the child process on this host.
    const live = readRunState(runDir);
    assert.equal(live.status, 'running');
    assert.deepEqual([live.summary.owner?.pid, live.summary.owner?.host], [pid, hostname()]);
    assert.match(runsTable(runs), new RegExp(`^crash +\\S+ +running +\\d+/500 +lossD \\d`, 'm'));
  } finally {
    cli.child.kill('SIGKILL');
    await cli.done;
  }

  // Killed: the summary still says running (readers never rewrite it), every reader says crashed.
  assert.equal(readSummary(runDir).status, 'running');
  const state = readRunState(runDir);
  assert.equal(state.status, 'crashed');
  const why = `crashed: the process (pid ${pid} on host ${hostname()}) ended without finishing`;
  assert.ok(state.crash?.startsWith(why), state.crash);
  const table = runsTable(runs);
  assert.match(table, /^EXPERIMENT +RUN +STATUS +EPOCHS +LAST +AGE$/m);
  assert.match(table, /^crash +\S+ +crashed +\d+\/500 +lossD \d\.\d{4} lossG \d\.\d{4} +\d+s$/m);
  assert.ok(table.includes(`: ${why}`), table);

  const sample = await runCli(['sample', runDir, '--count', '4', '--out', join(dir, 'grid.png')], { cwd: dir });
  assert.equal(sample.code, 0, sample.stderr);
  assert.ok(sample.stderr.includes(`${runDir}: ${why}`), sample.stderr);
  assert.ok(existsSync(join(dir, 'grid.png')));

  const evaluated = await runCli(['eval', runDir, '--samples', '20'], { cwd: dir });
  assert.ok(evaluated.stderr.includes(`${runDir}: ${why}`), evaluated.stderr);
  assert.equal(evaluated.code, 0, evaluated.stderr);

  const sync = await runCli(['sync', runDir, '--uri', server.uri], { cwd: dir, env: cliEnv() });
  assert.equal(sync.code, 0, sync.stderr);
  assert.match(sync.stdout, /status FAILED/);
  assert.ok(sync.stdout.includes(`(${why}`) && sync.stdout.includes('its MLflow run is FAILED)'), sync.stdout);
  const run = await new MlflowClient({ trackingUri: server.uri }).getRun(readSyncState(runDir)!.runId);
  assert.equal(run.info.status, 'FAILED');
  const tag = run.data.tags?.find((t) => t.key === 'dcgan.error')?.value;
  assert.ok(tag?.startsWith(why), tag);
  const note = run.data.tags?.find((t) => t.key === 'mlflow.note.content')?.value;
  const escape = (text: string) => text.replace(/[()]/g, '\\$&');
  assert.match(
    note!,
    new RegExp(
      `^Crashed at epoch \\d+(, step \\d+/\\d+)?: ${escape(why.replace('crashed: ', ''))}.*; marked FAILED by dcgan-run sync\\. Continue it with: dcgan-run resume ${runDir}$`,
    ),
  );
  assert.equal(readSummary(runDir).status, 'running');

  // Again: nothing to send, still said.
  const again = await runCli(['sync', runDir, '--uri', server.uri], { cwd: dir, env: cliEnv() });
  assert.match(again.stdout, /the server has everything: .*\(crashed: /);
});

/** A run directory with a summary that says running, owned as given. */
function fakeRun(owner: RunSummary['owner'], heartbeatAgoMs?: number): string {
  const runDir = join(mkdtempSync(join(tmpdir(), 'dcgan-run-status-')), 'exp', 'run-1');
  mkdirSync(runDir, { recursive: true });
  const summary: RunSummary = {
    status: 'running',
    experiment: 'exp',
    runId: 'run-1',
    epochsDone: 2,
    epochs: 10,
    steps: 20,
    finalLosses: { lossD: 0.7, lossG: 0.8 },
    backend: 'cpu',
    versions: {},
    dataset: 'd',
    startedAt: new Date(Date.now() - 3_600_000).toISOString(),
    wallSeconds: 60,
    owner,
  };
  writeFileSync(join(runDir, 'summary.json'), JSON.stringify(summary));
  const written = new Date(Date.now() - (heartbeatAgoMs ?? 0));
  utimesSync(join(runDir, 'summary.json'), written, written);
  if (heartbeatAgoMs !== undefined) writeFileSync(join(runDir, HEARTBEAT_FILE), `${new Date(Date.now() - heartbeatAgoMs).toISOString()}\n`);
  return runDir;
}

test('a run on another host is crashed once its heartbeat is stale; without an owner it cannot be told', () => {
  const foreign = { pid: 4242, host: 'gpu-box-7', startedAt: new Date().toISOString() };
  assert.equal(readRunState(fakeRun(foreign, 30_000)).status, 'running');
  const stale = readRunState(fakeRun(foreign, STALE_MS + 60_000));
  assert.equal(stale.status, 'crashed');
  assert.match(stale.crash!, /^crashed: the process \(pid 4242 on host gpu-box-7\) has not written a heartbeat for over 2 minutes; last heartbeat at \d{4}-/);
  assert.equal(readRunState(fakeRun(foreign)).status, 'running', 'no heartbeat yet');
  assert.equal(readRunState(fakeRun(undefined, STALE_MS * 10)).status, 'running', 'a summary from before owners');
  const table = runsTable(join(fakeRun(foreign, STALE_MS + 60_000), '..', '..'));
  assert.match(table, /^exp +run-1 +crashed +2\/10 +lossD 0\.7000 lossG 0\.8000 +3m$/m);
});

test('a pid now used by another process is crashed (Linux start time)', { skip: !existsSync('/proc/self/stat') }, () => {
  const self = currentOwner();
  assert.equal(readRunState(fakeRun(self)).status, 'running');
  const reused = readRunState(fakeRun({ ...self, procStart: self.procStart! - 100 }));
  assert.equal(reused.status, 'crashed');
  assert.match(reused.crash!, new RegExp(`ended without finishing \\(pid ${process.pid} is now another process\\)`));
});

test('the heartbeat is written at once and its timer does not keep a process alive', () => {
  const runDir = fakeRun(undefined);
  const script = `import { startHeartbeat } from './src/track/run-owner.ts'; startHeartbeat(${JSON.stringify(runDir)});`;
  const started = Date.now();
  execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: PROJECT_ROOT, timeout: 15_000 });
  assert.ok(Date.now() - started < 15_000);
  const beat = readHeartbeat(runDir);
  assert.ok(beat && Date.now() - beat.getTime() < 15_000, String(beat));
});
