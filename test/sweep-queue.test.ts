// Sweeps over a Redis queue (BullMQ) with real worker processes on this machine and Debian's redis-server
// (append-only): a worker killed mid-trial (SIGKILL) and Redis restarted mid-sweep, and every trial still ends
// exactly once, the lost one resumed from its checkpoint; enqueueing again adds nothing; a UserError is not
// retried; `sweep status` and `sweep cancel`. tpe, asha and --fail-fast through the queue: sweep-queue-search.test.ts.
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunSummary } from '../src/track/run-types.ts';
import { needs } from './support/requirements.ts';
import { queueJobCounts, redisMissing, startRedisServer, type RedisTestServer } from './support/redis-server.ts';
import { onlySweepDir, readManifest, runCli, startCli, waitFor, endProcesses, type CliProcess } from './support/sweep-cli.ts';
import { POKEMON_ROOT, tinyExperiment } from './support/tiny-config.ts';

const skip = needs('redis', redisMissing());
let redis: RedisTestServer;
/** Every process a test starts, workers and coordinators. */
const started: CliProcess[] = [];

before(async () => {
  if (!skip) redis = await startRedisServer();
});
/**
 * Each test's processes end with it, passed or failed: SIGTERM (running trials go back to the queue), then SIGKILL.
 * A coordinator left running would keep the test file alive after a failure.
 */
afterEach(() => endProcesses(started));
after(async () => {
  await redis?.stop();
});

const startTracked = (args: string[], dir: string) => {
  const child = startCli(args, { cwd: dir });
  started.push(child);
  return child;
};
const startWorker = (dir: string) => startTracked(['worker', '--queue', redis.url, '--lock-seconds', '2'], dir);
const startCoordinator = (file: string, dir: string) => startTracked(['run', file, '--queue', redis.url], dir);

const parentPid = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);

test(
  '3 workers, one killed mid-trial and Redis restarted: every trial ends once, the lost one resumed from its checkpoint',
  { skip, timeout: 180_000 },
  async () => {
    const name = 'queue-faults';
    const epochs = 6;
    const { file, dir } = tinyExperiment({
      name,
      train: { epochs, samples: { count: 4, every: 1000 }, checkpoint: { every: 1 }, logEvery: 1, backend: 'cpu', report: false },
      tracking: { runsDir: 'runs' },
      sweep: { parameters: { seed: [1, 2, 3], 'data.batchSize': [4, 8] } },
    });
    const pool = [startWorker(dir), startWorker(dir), startWorker(dir)];
    const coordinator = startCoordinator(file, dir);
    const runs = join(dir, 'runs');
    // A trial past its first checkpoint: its worker is killed (its trial's process stops at its step's end).
    const victim = await waitFor(
      'a running trial with a checkpoint',
      () => {
        const sweepDir = onlySweepDir(runs, name);
        return sweepDir === undefined
          ? undefined
          : readManifest(sweepDir).trials.find((t) => t.status === 'running' && t.pid && t.runDir && existsSync(join(t.runDir, 'checkpoints', 'latest.json')));
      },
      60_000,
      coordinator.output,
    );
    const killed = pool.find((w) => w.child.pid === parentPid(victim.pid!))!;
    assert.ok(killed, 'the trial runs under one of the workers');
    killed.child.kill('SIGKILL');
    await redis.restart();

    const result = await coordinator.done;
    const logs = () => `${coordinator.output()}\n--- workers\n${pool.map((w) => w.output()).join('\n')}`;
    assert.equal(result.code, 0, logs());
    const manifest = readManifest(onlySweepDir(runs, name)!);
    assert.equal(manifest.status, 'finished');
    for (const trial of manifest.trials) {
      assert.equal(trial.status, 'finished', logs());
      assert.equal(trial.metrics?.epoch, epochs);
      assert.ok([trial.metrics!.lossD, trial.metrics!.lossG, trial.metrics!.dReal, trial.metrics!.dFake].every(Number.isFinite));
      const summary = JSON.parse(readFileSync(join(trial.runDir!, 'summary.json'), 'utf8')) as RunSummary;
      assert.equal(summary.status, 'finished');
      assert.equal(summary.epochsDone, epochs);
    }
    // The lost trial went on in its run directory (from its checkpoint), not in a new one.
    const resumed = manifest.trials.find((t) => t.name === victim.name)!;
    assert.equal(resumed.runDir, victim.runDir, logs());
    assert.match(logs(), new RegExp(`\\[${victim.name}\\] resumed from its checkpoint: run ${victim.runId}`));
    // Exactly once: one run directory per trial, each finished (no second start of any trial).
    const runDirs = readdirSync(join(runs, name)).filter((entry) => !entry.startsWith('sweep-'));
    assert.equal(runDirs.length, manifest.trials.length, runDirs.join(', '));
    assert.deepEqual(await queueJobCounts(redis.url), { waiting: 0, active: 0, completed: 6, failed: 0, delayed: 0 });

    // Enqueueing again adds nothing and starts nothing: the results are the queue's.
    const again = await runCli(['run', file, '--queue', redis.url], { cwd: dir });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /\(0 enqueued now, 6 already there\)/);
    assert.equal(readdirSync(join(runs, name)).filter((entry) => !entry.startsWith('sweep-')).length, 6);
    assert.deepEqual(await queueJobCounts(redis.url), { waiting: 0, active: 0, completed: 6, failed: 0, delayed: 0 });
    for (const worker of pool) if (worker !== killed) worker.child.kill('SIGTERM');
  },
);

test('a UserError is not retried; sweep status shows the trials; sweep cancel removes the queued ones', { skip, timeout: 120_000 }, async () => {
  const name = 'queue-status';
  const { file, dir } = tinyExperiment({
    name,
    train: { epochs: 1, samples: { count: 4, every: 1000 }, checkpoint: { every: 1000 }, logEvery: 1, backend: 'cpu', report: false },
    tracking: { runsDir: 'runs' },
    sweep: { retries: 2, parameters: { seed: [11, 12], 'data.source.root': [POKEMON_ROOT, '/nonexistent/sprites'] } },
  });
  // No worker yet: the trials wait in the queue.
  const coordinator = startCoordinator(file, dir);
  // The directory comes before its manifest (written atomically, so there once it exists).
  const sweepDir = await waitFor(
    'the sweep manifest',
    () => {
      const found = onlySweepDir(join(dir, 'runs'), name);
      return found && existsSync(join(found, 'manifest.json')) && found;
    },
    30_000,
    coordinator.output,
  );
  const sweepId = readManifest(sweepDir).sweepId;
  await waitFor('the trials enqueued', () => coordinator.output().includes('4 enqueued now'), 30_000, coordinator.output);
  const queued = await runCli(['sweep', 'status', sweepId, '--queue', redis.url], { cwd: dir });
  assert.equal(queued.code, 0, queued.stderr);
  assert.equal((queued.stdout.match(/ queued /g) ?? []).length, 4, queued.stdout);

  // One worker, concurrency 1: the first two trials (a good one, a missing folder) run; the worker is stopped as
  // soon as it reports the failure (the next trial, if it started, goes back to the queue), then the sweep is cancelled.
  const worker = startWorker(dir);
  const logs = () => `${coordinator.output()}\n${worker.output()}`;
  await waitFor('the missing-folder trial failed', () => /^\[001-seed=11,root=\S+\] FAILED \(attempt 1\)/m.test(worker.output()), 60_000, logs);
  worker.child.kill('SIGTERM');
  await worker.done;
  const failed = await waitFor(
    'the failure in the manifest',
    () => {
      const trial = readManifest(sweepDir).trials[1];
      return trial.status === 'failed' && trial;
    },
    30_000,
    logs,
  );
  assert.equal(failed.error, 'data.source.root: the folder /nonexistent/sprites does not exist');
  assert.equal(failed.attempts, 1, 'a UserError is not retried');
  const cancel = await runCli(['sweep', 'cancel', sweepId, '--queue', redis.url], { cwd: dir });
  assert.equal(cancel.code, 0, cancel.stderr);
  assert.match(cancel.stdout, /cancelled: \d queued trial\(s\) removed/);
  const result = await coordinator.done;
  assert.equal(result.code, 1, coordinator.output());
  const status = await runCli(['sweep', 'status', sweepId, '--queue', redis.url], { cwd: dir });
  assert.match(status.stdout, /, cancelled by dcgan-run sweep cancel\n/);
  assert.match(status.stdout, /^000-seed=11,root=\S+\s+finished/m);
  assert.match(status.stdout, /^001-seed=11,root=\S+\s+failed\s+1\s+data\.source\.root: the folder \/nonexistent\/sprites does not exist/m);
  assert.match(status.stdout, /^003-seed=12,root=\S+\s+cancelled/m);
  assert.equal(readManifest(sweepDir).trials[3].status, 'stopped');
});
