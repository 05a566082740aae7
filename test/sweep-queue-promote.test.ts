// sweep.earlyStop.promote through the Redis queue (Debian's redis-server, a real worker process): the scenario of
// test/sweep-asha-promote.test.ts, with one worker taking one trial at a time in the order enqueued. The trial
// pruned at epoch 1 against one strong early trial is promoted by the coordinator once the weaker ones have
// reported at its rung (the rung data in Redis), resumed by the worker from its checkpoint in the same run
// directory, and finishes; `sweep status` shows it; the coordinator run again promotes nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readMetrics } from '../src/track/run-dir.ts';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { sweepKey } from '../src/sweep/queue/connection.ts';
import { readQueueRungs } from '../src/sweep/queue/rungs.ts';
import type { SweepManifest } from '../src/track/sweep-manifest.ts';
import { needs } from './support/requirements.ts';
import { queueJobCounts, redisMissing, startRedisServer, type RedisTestServer } from './support/redis-server.ts';
import { endProcesses, onlySweepDir, readManifest, runCli, startCli, type CliProcess } from './support/sweep-cli.ts';
import { tinyExperiment } from './support/tiny-config.ts';

const skip = needs('redis', redisMissing());
let redis: RedisTestServer;
let worker: CliProcess | undefined;

before(async () => {
  if (!skip) redis = await startRedisServer();
});
after(async () => {
  if (worker) await endProcesses([worker]);
  await redis?.stop();
});

const LR = 'train.optimizers.generator.learningRate';
const METRIC = 'swd/patch7/n10/avg';

test(
  'promote through the queue: the trial pruned at epoch 1 is promoted from the Redis rungs, resumed from its checkpoint by the worker, and finishes; run again, nothing is promoted',
  { skip, timeout: 300_000 },
  async () => {
    const name = 'queue-promote';
    const { file, dir } = tinyExperiment({
      name,
      train: { epochs: 2, samples: { count: 4 }, logEvery: 1, backend: 'cpu', report: false, eval: { samples: 10, metrics: ['patches'] } },
      tracking: { runsDir: 'runs' },
      sweep: {
        objective: { metric: METRIC, mode: 'min' },
        earlyStop: { kind: 'asha', minEpochs: 1, reductionFactor: 2, promote: true },
        parameters: { [LR]: [0.05, 0.1, 0.0002, 0.001] },
      },
    });
    // One worker, one trial at a time: the trials run in the order enqueued, as the local sweep's with parallel 1.
    worker = startCli(['worker', '--queue', redis.url, '--concurrency', '1'], { cwd: dir });
    const first = await runCli(['run', file, '--queue', redis.url], { cwd: dir });
    const logs = () => `${first.stderr}\n--- worker\n${worker!.output()}`;
    assert.equal(first.code, 0, logs());
    const sweepDir = onlySweepDir(join(dir, 'runs'), name)!;
    const manifest = readManifest(sweepDir);
    assert.equal(manifest.status, 'finished', logs());
    assert.deepEqual(
      manifest.trials.map((t) => [t.values[LR], t.status]),
      [
        [0.05, 'finished'],
        [0.1, 'finished'],
        [0.0002, 'pruned'],
        [0.001, 'pruned'],
      ],
      logs(),
    );
    const promoted = manifest.trials[1];
    assert.equal(promoted.promoted?.length, 1);
    assert.deepEqual({ rung: promoted.promoted![0].rung, epoch: promoted.promoted![0].epoch }, { rung: 0, epoch: 1 });
    assert.equal(promoted.pruned, null);
    assert.equal(promoted.attempts, 2);
    assert.equal(promoted.epochsDone, 2);
    assert.equal(promoted.objective?.epoch, 2);
    assert.match(first.stderr, new RegExp(`^\\[${promoted.name}\\] promoted at epoch 1 \\(rung 0\\)`, 'm'));
    assert.match(worker.output(), new RegExp(`\\[${promoted.name}\\] pruned at epoch 1 \\(rung 0\\)`));
    assert.match(worker.output(), new RegExp(`\\[${promoted.name}\\] resumed from its checkpoint \\(promoted\\): run ${promoted.runId}`), logs());
    // The same run directory, each epoch once: epoch 1 before the pruning, epoch 2 after the promotion.
    assert.deepEqual(
      readMetrics(promoted.runDir!)
        .filter((record) => record.type === 'epoch')
        .map((record) => record.epoch),
      [1, 2],
    );
    // Its later report went through the Redis rungs: rung 1 (epoch 2) recorded for it.
    const client = new Redis(redis.url);
    const stored = JSON.parse((await client.get(sweepKey(manifest.sweepId)))!) as SweepManifest;
    const rungs = await readQueueRungs(client, manifest.sweepId);
    await client.quit();
    assert.equal(rungs.rungs[promoted.name].length, 2, JSON.stringify(rungs.rungs));
    assert.equal(rungs.decisions[`${promoted.name}@2`]?.prune, false);
    assert.deepEqual(stored.trials[1].promoted, promoted.promoted, 'the promotion is in the queue');
    assert.match(first.stdout, /promoted at epoch 1/);
    const status = await runCli(['sweep', 'status', manifest.sweepId, '--queue', redis.url], { cwd: dir });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`^${promoted.name}\\s+finished\\s+2\\s+.*promoted at epoch 1`, 'm'), status.stdout);
    assert.deepEqual(await queueJobCounts(redis.url), { waiting: 0, active: 0, completed: 5, failed: 0, delayed: 0 });

    const again = await runCli(['run', file, '--queue', redis.url], { cwd: dir });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /\(0 enqueued now, 4 already there\)/);
    assert.doesNotMatch(again.stderr, /promoted at/);
    assert.deepEqual(
      readManifest(sweepDir).trials.map((t) => [t.status, t.attempts, t.promoted ?? null]),
      manifest.trials.map((t) => [t.status, t.attempts, t.promoted ?? null]),
      'nothing run again',
    );
    assert.deepEqual(await queueJobCounts(redis.url), { waiting: 0, active: 0, completed: 5, failed: 0, delayed: 0 });
  },
);
