// Bounded retries through the Redis queue, with Debian's redis-server and a real worker: a trial whose own process
// dies (SIGKILL, found by the owner pid in its run directory's summary.json; the worker lives on) is retried from
// the start and ends finished exactly once; one whose process dies on every attempt ends failed after
// sweep.retries + 1 attempts, with the reason. A worker that loses a job's lock (stopped) does not make its
// trial run twice: the worker that takes the job keeps the result of the run that finished meanwhile.
import { after, afterEach, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { QUEUE_NAME } from '../src/sweep/queue/connection.ts';
import type { RunSummary } from '../src/track/run-types.ts';
import type { TrialRecord } from '../src/track/sweep-manifest.ts';
import { needs } from './support/requirements.ts';
import { flushRedis, queueJobCounts, redisMissing, startRedisServer, type RedisTestServer } from './support/redis-server.ts';
import { onlySweepDir, readManifest, runCli, startCli, waitFor, endProcesses, type CliProcess } from './support/sweep-cli.ts';
import { tinyExperiment } from './support/tiny-config.ts';

const skip = needs('redis', redisMissing());
let redis: RedisTestServer;
const processes: CliProcess[] = [];

before(async () => {
  if (!skip) redis = await startRedisServer();
});
beforeEach(async () => {
  if (!skip) await flushRedis(redis.url);
});
afterEach(() => endProcesses(processes));
after(async () => {
  await redis?.stop();
});

const readSummary = (runDir: string) => JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as RunSummary;
const parentPid = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
const KILLED = "the trial's worker process was killed by SIGKILL without reporting a result";

test(
  "a trial's process killed once is retried and finishes exactly once; one killed on every attempt fails after sweep.retries + 1 attempts",
  { skip, timeout: 300_000 },
  async () => {
    const name = 'queue-retries';
    const { file, dir } = tinyExperiment({
      name,
      train: { epochs: 4, samples: { count: 4, every: 1000 }, checkpoint: { every: 1 }, logEvery: 1, backend: 'cpu', report: false },
      tracking: { runsDir: 'runs' },
      sweep: { retries: 1, parameters: { seed: [1, 2] } },
    });
    // One worker running both trials at once.
    const worker = startCli(['worker', '--queue', redis.url, '--concurrency', '2'], { cwd: dir });
    processes.push(worker);
    const coordinator = startCli(['run', file, '--queue', redis.url], { cwd: dir });
    processes.push(coordinator);
    const runs = join(dir, 'runs');
    const logs = () => `${coordinator.output()}\n--- worker\n${worker.output()}`;

    /** Kills trial `index`'s process (the owner in its run's summary.json, a child of the worker) once it trains in a run other than `seen`. */
    const killTrial = async (index: number, seen: string[]): Promise<string> => {
      const { runDir, pid } = await waitFor(
        `trial ${index} training in a new run`,
        () => {
          const trial: TrialRecord | undefined = readManifest(onlySweepDir(runs, name)!).trials[index];
          if (trial?.status !== 'running' || !trial.runDir || seen.includes(trial.runDir) || !existsSync(join(trial.runDir, 'metrics.jsonl'))) return undefined;
          const summary = readSummary(trial.runDir);
          return summary.status === 'running' && summary.owner ? { runDir: trial.runDir, pid: summary.owner.pid } : undefined;
        },
        90_000,
        logs,
      );
      assert.equal(parentPid(pid), worker.child.pid, "the trial's own process, under the worker");
      process.kill(pid, 'SIGKILL');
      return runDir;
    };
    // Trial 000: its first attempt is killed. Trial 001: every attempt (2 with sweep.retries: 1).
    const [first, once] = await Promise.all([killTrial(0, []), killTrial(1, [])]);
    const twice = await killTrial(1, [once]);

    const result = await coordinator.done;
    assert.equal(result.code, 1, logs());
    const manifest = readManifest(onlySweepDir(runs, name)!);
    assert.equal(manifest.status, 'failed');
    const [retried, failed] = manifest.trials;
    assert.deepEqual([retried.status, retried.attempts, retried.error], ['finished', 2, null], logs());
    assert.equal(retried.metrics?.epoch, 4);
    assert.notEqual(retried.runDir, first, 'the retry starts over in a new run directory');
    assert.equal(readSummary(retried.runDir!).status, 'finished');
    assert.deepEqual([failed.status, failed.attempts], ['failed', 2]);
    assert.ok(failed.error!.startsWith(`${KILLED}; its last output:`), failed.error!);
    assert.equal(failed.runDir, twice);
    // Exactly once: trial 000 has two runs, the killed one and one finished; trial 001 two killed ones.
    const statuses = readdirSync(join(runs, name))
      .filter((entry) => !entry.startsWith('sweep-'))
      .map((entry) => join(runs, name, entry))
      .map((runDir) => [runDir, readSummary(runDir).status]);
    assert.equal(statuses.length, 4, JSON.stringify(statuses));
    assert.deepEqual(
      statuses.filter(([, status]) => status === 'finished').map(([runDir]) => runDir),
      [retried.runDir],
    );
    for (const runDir of [first, once, twice]) assert.equal(readSummary(runDir).status, 'running', 'left as the kill found it (shown as crashed)');
    assert.deepEqual(await queueJobCounts(redis.url), { waiting: 0, active: 0, completed: 1, failed: 1, delayed: 0 });
    const out = worker.output();
    assert.match(out, new RegExp(`\\[${retried.name}\\] FAILED \\(attempt 1\\): ${KILLED}`));
    assert.match(out, new RegExp(`\\[${retried.name}\\] started: run \\S+ \\(attempt 2\\)`));
    assert.match(out, new RegExp(`\\[${failed.name}\\] FAILED \\(attempt 2\\): ${KILLED}`));
    assert.equal((out.match(new RegExp(`\\[${failed.name}\\] started: `, 'g')) ?? []).length, 2, 'no third attempt');

    // The attempts and the reason in `sweep status`, from the queue.
    const status = await runCli(['sweep', 'status', manifest.sweepId, '--queue', redis.url], { cwd: dir });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`^${retried.name}\\s+finished\\s+2\\s*$`, 'm'));
    assert.match(status.stdout, new RegExp(`^${failed.name}\\s+failed\\s+2\\s+${KILLED}; its last output:$`, 'm'));
  },
);

test(
  "a worker too busy to renew its job's lock (SIGSTOP) loses the job; the worker that takes it waits for the trial's process and keeps its result: the trial runs once",
  { skip, timeout: 180_000 },
  async () => {
    const name = 'queue-lock-lost';
    const { file, dir } = tinyExperiment({
      name,
      train: { epochs: 8, samples: { count: 4, every: 1000 }, checkpoint: { every: 1 }, logEvery: 1, backend: 'cpu', report: false },
      tracking: { runsDir: 'runs' },
      sweep: { parameters: { seed: [3] } },
    });
    const pool = [0, 1].map(() => startCli(['worker', '--queue', redis.url, '--lock-seconds', '2'], { cwd: dir }));
    processes.push(...pool);
    const coordinator = startCli(['run', file, '--queue', redis.url], { cwd: dir });
    processes.push(coordinator);
    const runs = join(dir, 'runs');
    const logs = () => `${coordinator.output()}\n--- workers\n${pool.map((w) => w.output()).join('\n')}`;
    const trial = await waitFor(
      'the trial training',
      () => {
        const t = readManifest(onlySweepDir(runs, name)!).trials[0];
        return t.status === 'running' && t.runDir !== null && existsSync(join(t.runDir, 'metrics.jsonl')) ? t : undefined;
      },
      90_000,
      logs,
    );
    const busy = pool.find((w) => w.child.pid === parentPid(readSummary(trial.runDir!).owner!.pid))!;
    const other = pool.find((w) => w !== busy)!;
    busy.child.kill('SIGSTOP');
    // Its lock expires; the other worker's stall check puts the job back and takes it, and waits for the trial's
    // process, which has ended by then or soon (a zombie until its stopped parent, woken now, reaps it).
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue(QUEUE_NAME, { connection });
    try {
      for (
        const deadline = Date.now() + 60_000;
        ((await queue.getJob(trial.configHash))?.stalledCounter ?? 0) < 1;
        await new Promise((r) => setTimeout(r, 200))
      )
        assert.ok(Date.now() < deadline, `the job did not stall\n${logs()}`);
    } finally {
      busy.child.kill('SIGCONT');
      await queue.close();
      await connection.quit();
    }
    const result = await coordinator.done;
    assert.match(
      other.output(),
      new RegExp(`\\] its previous run ${trial.runDir} finished after the job's lock was lost: its result stands \\(not run again\\)`),
      logs(),
    );
    assert.equal(result.code, 0, logs());
    const record = readManifest(onlySweepDir(runs, name)!).trials[0];
    assert.deepEqual([record.status, record.runDir, record.metrics?.epoch], ['finished', trial.runDir, 8], logs());
    assert.equal(readdirSync(join(runs, name)).filter((entry) => !entry.startsWith('sweep-')).length, 1, 'one run');
    assert.equal(readSummary(trial.runDir!).status, 'finished');
    assert.deepEqual(await queueJobCounts(redis.url), { waiting: 0, active: 0, completed: 1, failed: 0, delayed: 0 });
  },
);
