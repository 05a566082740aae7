// tpe, ASHA and --fail-fast through the Redis queue, with Debian's redis-server and real worker processes: ASHA's
// decisions made against the rung data in Redis, atomically (many workers reporting at once decide as one after
// another would) and kept across a Redis restart; tpe's trials suggested by the coordinator as earlier ones end,
// at most sweep.parallel in flight, and a coordinator killed mid-sweep goes on from the queue's state; --fail-fast
// cancels the rest of the sweep at the first failed trial.
import { after, afterEach, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { QUEUE_NAME, sweepKey } from '../src/sweep/queue/connection.ts';
import { decideInQueue, readQueueRungs, type QueueDecision } from '../src/sweep/queue/rungs.ts';
import { pruneDecision, suggestTrial } from '../src/sweep/search/sweep-search.ts';
import type { Rungs } from '../src/sweep/search/asha.ts';
import type { SweepManifest } from '../src/track/sweep-manifest.ts';
import type { RunSummary } from '../src/track/run-types.ts';
import { needs } from './support/requirements.ts';
import { flushRedis, queueJobCounts, redisMissing, startRedisServer, type RedisTestServer } from './support/redis-server.ts';
import { onlySweepDir, readManifest, runCli, startCli, waitFor, endProcesses, type CliProcess } from './support/sweep-cli.ts';
import { POKEMON_ROOT, tinyExperiment } from './support/tiny-config.ts';

const skip = needs('redis', redisMissing());
let redis: RedisTestServer;
const processes: CliProcess[] = [];

const LR = 'train.optimizers.generator.learningRate';
const METRIC = 'swd/patch7/n10/avg';
const evaluation = { eval: { samples: 10, metrics: ['patches'] } };

before(async () => {
  if (!skip) redis = await startRedisServer();
});
beforeEach(async () => {
  if (!skip) await flushRedis(redis.url);
});
/** Each test's workers and coordinators end with it: SIGTERM (running trials go back to the queue), then SIGKILL. */
afterEach(() => endProcesses(processes));
after(async () => {
  await redis?.stop();
});

const startWorker = (dir: string, ...extra: string[]) => {
  // No worker is lost here: the default lock (30 s), so that a loaded machine's late lock renewal is no stall.
  const worker = startCli(['worker', '--queue', redis.url, ...extra], { cwd: dir });
  processes.push(worker);
  return worker;
};

async function storedManifest(sweepId: string): Promise<SweepManifest> {
  const client = new Redis(redis.url);
  try {
    return JSON.parse((await client.get(sweepKey(sweepId)))!) as SweepManifest;
  } finally {
    await client.quit();
  }
}

/** Replays the decisions in the order they were made on empty rungs, as one process deciding alone would. */
function replay(decisions: Record<string, QueueDecision>, sweep: Parameters<typeof pruneDecision>[4], epochs: number): Rungs {
  const rungs: Rungs = {};
  for (const [id, decision] of Object.entries(decisions).sort((a, b) => a[1].order - b[1].order)) {
    const [trial, epoch] = id.split('@');
    const again = pruneDecision(rungs, trial, Number(epoch), decision.value ?? NaN, sweep, epochs);
    assert.deepEqual({ prune: again.prune, rung: again.rung }, { prune: decision.prune, rung: decision.rung }, `decision ${decision.order} (${id})`);
  }
  return rungs;
}

test(
  'asha in Redis: 12 workers reporting at once decide as if one after another, none lost; a report made again gets its decision again',
  { skip },
  async () => {
    const sweep = {
      objective: { metric: METRIC, mode: 'min' as const },
      earlyStop: { kind: 'asha' as const, minEpochs: 1, reductionFactor: 3, minEarlyStoppingRate: 0, promote: false },
    };
    const clients = Array.from({ length: 12 }, () => new Redis(redis.url, { maxRetriesPerRequest: null }));
    try {
      // A scrambled order of values, so that many reports are promotable when made and many are not.
      const values = clients.map((_, i) => ((i * 7) % 12) / 10);
      const first = await Promise.all(clients.map((client, i) => decideInQueue(client, 'sweep-x', `t${i}`, 1, values[i], sweep, 9)));
      // The survivors report their rung 1 (epoch 3) at once too.
      const survivors = first.flatMap((d, i) => (d.prune ? [] : [i]));
      assert.ok(survivors.length >= 1 && survivors.length < 12, `${survivors.length} of 12 went on`);
      await Promise.all(survivors.map((i) => decideInQueue(clients[i], 'sweep-x', `t${i}`, 3, values[i] / 2, sweep, 9)));

      const state = await readQueueRungs(clients[0], 'sweep-x');
      assert.equal(Object.keys(state.decisions).length, 12 + survivors.length, 'every report decided once');
      assert.deepEqual(
        Object.values(state.decisions)
          .map((d) => d.order)
          .sort((a, b) => a - b),
        Array.from({ length: 12 + survivors.length }, (_, i) => i),
      );
      const rungs = replay(state.decisions, sweep, 9);
      assert.deepEqual(state.rungs, rungs, 'no value lost to a concurrent write');
      assert.equal(Object.values(state.rungs).filter((r) => r.length >= 1).length, 12);
      // The same report again (a trial resumed from its checkpoint): the same decision, nothing recorded twice.
      const again = await decideInQueue(clients[1], 'sweep-x', 't1', 1, values[1], sweep, 9);
      assert.deepEqual(again, first[1]);
      assert.equal(Object.keys((await readQueueRungs(clients[0], 'sweep-x')).decisions).length, 12 + survivors.length);
      // Never pruned at the last epoch.
      const last = await decideInQueue(clients[0], 'sweep-x', 'late', 9, 100, sweep, 9);
      assert.equal(last.prune, false);
    } finally {
      await Promise.all(clients.map((client) => client.quit()));
    }
  },
);

test(
  'asha through the queue: 2 workers prune trials (status pruned, not retried) in sweep status and the summary; a rerun after a Redis restart keeps every decision',
  { skip, timeout: 300_000 },
  async () => {
    const name = 'queue-asha';
    const epochs = 3;
    const sweep = {
      objective: { metric: METRIC, mode: 'min' },
      earlyStop: { kind: 'asha', minEpochs: 1, reductionFactor: 2 },
      parameters: { [LR]: [0.0002, 0.02, 0.001, 0.05, 0.005, 0.0005] },
    };
    const { file, dir } = tinyExperiment({
      name,
      train: { epochs, samples: { count: 4 }, logEvery: 1, backend: 'cpu', report: false, ...evaluation },
      tracking: { runsDir: 'runs' },
      sweep,
    });
    const pool = [startWorker(dir), startWorker(dir)];
    const result = await runCli(['run', file, '--queue', redis.url], { cwd: dir });
    const logs = () => `${result.stderr}\n--- workers\n${pool.map((w) => w.output()).join('\n')}`;
    assert.equal(result.code, 0, logs());
    const sweepDir = onlySweepDir(join(dir, 'runs'), name)!;
    const manifest = readManifest(sweepDir);
    assert.equal(manifest.status, 'finished');
    const pruned = manifest.trials.filter((t) => t.status === 'pruned');
    assert.ok(pruned.length > 0, `some trial pruned: ${manifest.trials.map((t) => t.status).join(', ')}`);
    assert.equal(pruned.length + manifest.trials.filter((t) => t.status === 'finished').length, 6);
    const status = await runCli(['sweep', 'status', manifest.sweepId, '--queue', redis.url], { cwd: dir });
    assert.equal(status.code, 0, status.stderr);
    for (const trial of pruned) {
      assert.ok(trial.pruned && trial.pruned.epoch < epochs, JSON.stringify(trial));
      assert.equal(trial.epochsDone, trial.pruned.epoch);
      assert.equal(trial.attempts, 1, 'a pruned trial is not retried');
      assert.deepEqual(trial.objective, { epoch: trial.pruned.epoch, value: trial.pruned.value });
      assert.ok(existsSync(join(trial.runDir!, 'checkpoints', 'latest.json')), 'a checkpoint where it stopped');
      assert.equal((JSON.parse(readFileSync(join(trial.runDir!, 'summary.json'), 'utf8')) as RunSummary).status, 'stopped');
      const note = `pruned at epoch ${trial.pruned.epoch} \\(rung ${trial.pruned.rung}\\)`;
      assert.match(status.stdout, new RegExp(`^${trial.name}\\s+pruned\\s+1\\s+${note}`, 'm'));
      assert.match(result.stdout, new RegExp(`^\\s+${trial.name}\\s+${trial.pruned.value.toFixed(4)}\\s+pruned\\s`, 'm'));
      assert.match(
        pool.map((w) => w.output()).join('\n'),
        new RegExp(`\\[${trial.name}\\] pruned at epoch ${trial.pruned.epoch} \\(rung ${trial.pruned.rung}\\)`),
      );
    }
    for (const trial of manifest.trials.filter((t) => t.status === 'finished')) {
      assert.equal(trial.epochsDone, epochs);
      assert.equal(trial.objective?.epoch, epochs);
      assert.match(status.stdout, new RegExp(`^${trial.name}\\s+finished\\s`, 'm'));
    }
    // The summary ranks the finished trials by the objective, its column first after the name.
    assert.match(result.stdout, /^Sorted by swd\/patch7\/n10\/avg \(sweep\.objective\) at the last evaluation, lowest first/m);
    assert.match(result.stdout, /^rank +trial +swd\/patch7\/n10\/avg +status /m);
    assert.match(result.stderr, new RegExp(`sweep finished in \\S+: ${6 - pruned.length} finished, ${pruned.length} pruned, 0 failed`));
    // The rung data in Redis: every trial's rung 0, and the decisions as one process would have made them.
    const client = new Redis(redis.url);
    const before = await readQueueRungs(client, manifest.sweepId);
    await client.quit();
    assert.equal(Object.keys(before.rungs).length, 6);
    replay(before.decisions, { objective: sweep.objective as never, earlyStop: { ...sweep.earlyStop, minEarlyStoppingRate: 0 } as never }, epochs);
    for (const trial of pruned) assert.equal(before.decisions[`${trial.name}@${trial.pruned!.epoch}`].prune, true);
    assert.deepEqual(await queueJobCounts(redis.url), { waiting: 0, active: 0, completed: 6, failed: 0, delayed: 0 });

    // Redis restarted (append-only file), the sweep run again: nothing runs again, every decision stands.
    await redis.restart();
    const again = await runCli(['run', file, '--queue', redis.url], { cwd: dir });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /\(0 enqueued now, 6 already there\)/);
    assert.deepEqual(
      readManifest(sweepDir).trials.map((t) => [t.name, t.status, t.attempts, t.pruned]),
      manifest.trials.map((t) => [t.name, t.status, t.attempts, t.pruned]),
    );
    const after = new Redis(redis.url);
    assert.deepEqual(await readQueueRungs(after, manifest.sweepId), before);
    await after.quit();
    assert.equal(readdirSync(join(dir, 'runs', name)).filter((entry) => !entry.startsWith('sweep-')).length, 6, `one run per trial\n${logs()}`);
  },
);

test(
  'tpe through the queue: at most sweep.parallel trials in flight; with the coordinator killed the workers finish what is queued and nothing new is suggested; run again, it goes on without duplicates',
  { skip, timeout: 300_000 },
  async () => {
    const name = 'queue-tpe';
    const { file, dir, config } = tinyExperiment({
      name,
      train: { epochs: 1, samples: { count: 4 }, logEvery: 1, backend: 'cpu', report: false, ...evaluation },
      tracking: { runsDir: 'runs' },
      sweep: {
        strategy: 'tpe',
        trials: 5,
        parallel: 2,
        tpe: { startupTrials: 2 },
        objective: { metric: METRIC, mode: 'min' },
        parameters: { [LR]: { distribution: 'logUniform', min: 1e-4, max: 1e-2 } },
      },
    });
    const pool = [startWorker(dir), startWorker(dir)];
    const first = startCli(['run', file, '--queue', redis.url], { cwd: dir });
    processes.push(first);
    const runs = join(dir, 'runs');
    // A third trial suggested (a first one ended): the coordinator is killed.
    const sweepDir = await waitFor(
      'a third trial suggested',
      () => readManifest(onlySweepDir(runs, name)!).trials.length >= 3 && onlySweepDir(runs, name),
      180_000,
      first.output,
    );
    first.child.kill('SIGKILL');
    await first.done;
    const sweepId = readManifest(sweepDir).sweepId;
    const suggested = (await storedManifest(sweepId)).trials.length;
    assert.ok(suggested >= 3 && suggested < 5, `${suggested} suggested`);
    // The workers go on with what is queued; nothing new is suggested while the coordinator is gone. (The last trial
    // suggested may be stored in the queue's manifest but not enqueued yet, if the kill came in between.)
    let completed = 0;
    for (const deadline = Date.now() + 180_000; ; await new Promise((r) => setTimeout(r, 250))) {
      const counts = await queueJobCounts(redis.url);
      completed = counts.completed;
      if (counts.waiting + counts.active + counts.delayed === 0 && completed >= suggested - 1) break;
      assert.ok(Date.now() < deadline, `the queued trials did not end: ${JSON.stringify(counts)}`);
    }
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await storedManifest(sweepId)).trials.length, suggested);

    const second = await runCli(['run', file, '--queue', redis.url], { cwd: dir });
    const logs = () => `${second.stderr}\n--- first\n${first.output()}\n--- workers\n${pool.map((w) => w.output()).join('\n')}`;
    assert.equal(second.code, 0, logs());
    assert.match(
      second.stderr,
      new RegExp(
        `5 tpe trials on \\S+, suggested as earlier ones end, 2 queued or running at most \\(${suggested} suggested before, ${suggested - completed} of them enqueued now\\)`,
      ),
    );
    const manifest = readManifest(sweepDir);
    assert.equal(manifest.sweepId, sweepId, 'the same sweep');
    assert.equal(manifest.status, 'finished');
    assert.deepEqual(
      manifest.trials.map((t) => [t.index, t.status, t.attempts]),
      [0, 1, 2, 3, 4].map((i) => [i, 'finished', 1]),
    );
    assert.equal(new Set(manifest.trials.map((t) => t.values[LR])).size, 5, 'distinct values');
    assert.equal(new Set(manifest.trials.map((t) => t.configHash)).size, 5, 'distinct fingerprints');
    for (const trial of manifest.trials) assert.ok(Number.isFinite(trial.objective?.value), JSON.stringify(trial));
    assert.deepEqual(
      (await storedManifest(sweepId)).trials.map((t) => t.name),
      manifest.trials.map((t) => t.name),
    );
    assert.deepEqual(await queueJobCounts(redis.url), { waiting: 0, active: 0, completed: 5, failed: 0, delayed: 0 });
    assert.equal(readdirSync(join(runs, name)).filter((entry) => !entry.startsWith('sweep-')).length, 5, 'each trial ran once');
    // The startup trials are random draws seeded by the config's seed and the trial's index.
    for (const i of [0, 1]) assert.deepEqual(manifest.trials[i].values, suggestTrial(config, undefined, [], i).values);
    // Never more than 2 in flight: at each enqueueing, the jobs enqueued and not finished.
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue(QUEUE_NAME, { connection });
    const jobs = await Promise.all(manifest.trials.map((t) => queue.getJob(t.configHash)));
    await queue.close();
    await connection.quit();
    for (const job of jobs) {
      const inFlight = jobs.filter((other) => other!.timestamp <= job!.timestamp && other!.finishedOn! > job!.timestamp).length;
      assert.ok(inFlight <= 2, `${inFlight} in flight when ${job!.name} was enqueued`);
    }
    assert.match(second.stdout, /^rank +trial +swd\/patch7\/n10\/avg +status /m);
  },
);

test(
  '--fail-fast through the queue: the first failed trial cancels the sweep; queued trials are removed, the running one stops with a checkpoint',
  { skip, timeout: 180_000 },
  async () => {
    const name = 'queue-fail-fast';
    const { file, dir } = tinyExperiment({
      name,
      train: { epochs: 50, samples: { count: 4, every: 1000 }, checkpoint: { every: 1000 }, logEvery: 1, backend: 'cpu', report: false },
      tracking: { runsDir: 'runs' },
      sweep: { parameters: { seed: [1, 2], 'data.source.root': [POKEMON_ROOT, '/nonexistent/sprites'] } },
    });
    // One worker running two trials at once: the missing folder (trial 001) fails at once while trial 000 trains.
    const worker = startWorker(dir, '--concurrency', '2');
    const result = await runCli(['run', file, '--queue', redis.url, '--fail-fast'], { cwd: dir });
    const logs = () => `${result.stderr}\n--- worker\n${worker.output()}`;
    assert.equal(result.code, 1, logs());
    const failed = '001-seed=1,root=_nonexistent_sprites';
    const reason = `cancelled by --fail-fast: trial ${failed} failed`;
    // Trial 002 may have started before the coordinator's next look at the queue: then it is stopped too.
    const cancel = new RegExp(
      `--fail-fast: ${failed} failed; cancelling the sweep \\((\\d) queued trial\\(s\\) removed, (\\d) running stop after their step\\)`,
    ).exec(result.stderr);
    assert.ok(cancel, logs());
    assert.equal(Number(cancel[1]) + Number(cancel[2]), 3);
    const manifest = readManifest(onlySweepDir(join(dir, 'runs'), name)!);
    assert.equal(manifest.status, 'failed');
    assert.deepEqual(
      manifest.trials.map((t) => [t.index, t.status, t.error]),
      [
        [0, 'stopped', reason],
        [1, 'failed', 'data.source.root: the folder /nonexistent/sprites does not exist'],
        [2, 'stopped', reason],
        [3, 'stopped', reason],
      ],
    );
    assert.equal(manifest.trials[1].name, failed);
    // The trial that was running stopped at a step's end with a checkpoint (running the sweep again resumes it).
    const stopped = manifest.trials[0];
    assert.equal((JSON.parse(readFileSync(join(stopped.runDir!, 'summary.json'), 'utf8')) as RunSummary).status, 'stopped');
    assert.ok(existsSync(join(stopped.runDir!, 'checkpoints', 'latest.json')), logs());
    const status = await runCli(['sweep', 'status', manifest.sweepId, '--queue', redis.url], { cwd: dir });
    assert.match(status.stdout, new RegExp(`, ${reason}\\n`));
    assert.equal((status.stdout.match(/^\S+ +cancelled /gm) ?? []).length, 3, status.stdout);
  },
);
