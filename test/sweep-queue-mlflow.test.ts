// A lost worker's trial resumed on another machine from its checkpoint in MLflow, with Debian's redis-server, the
// real MLflow server the tests use and real worker processes: the first worker and its trial are SIGKILLed
// (the machine is lost) and its run directory moved away; a second worker with another runs root takes the stalled
// job, downloads the latest checkpoint from the trial's MLflow run and goes on from it, in the same MLflow run.
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, renameSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { downloadCheckpoint } from '../src/sweep/queue/mlflow-resume.ts';
import { MlflowClient } from '../src/track/mlflow/index.ts';
import { readMetrics } from '../src/track/run-dir.ts';
import type { RunSummary } from '../src/track/run-types.ts';
import { needs } from './support/requirements.ts';
import { startMlflowServer, type MlflowTestServer } from './support/mlflow-server.ts';
import { queueJobCounts, redisMissing, startRedisServer, type RedisTestServer } from './support/redis-server.ts';
import { onlySweepDir, readManifest, startCli, waitFor, endProcesses, type CliProcess } from './support/sweep-cli.ts';
import { tinyExperiment } from './support/tiny-config.ts';

const skip = needs('redis', redisMissing());
let redis: RedisTestServer;
let mlflow: MlflowTestServer;
const processes: CliProcess[] = [];

before(async () => {
  if (skip) return;
  [redis, mlflow] = await Promise.all([startRedisServer(), startMlflowServer()]);
});
afterEach(() => endProcesses(processes));
after(async () => {
  await redis?.stop();
  await mlflow?.stop();
});

const readSummary = (runDir: string) => JSON.parse(readFileSync(join(runDir, 'summary.json'), 'utf8')) as RunSummary;

test(
  "a lost worker's trial whose run directory is not reachable resumes on another worker from its checkpoint in MLflow, in the same MLflow run",
  { skip, timeout: 300_000 },
  async () => {
    const name = `queue-mlflow-${Date.now()}`;
    const epochs = 20;
    const { file, dir, config } = tinyExperiment({
      name,
      train: { epochs, samples: { count: 4, every: 1000 }, checkpoint: { every: 1 }, logEvery: 1, backend: 'cpu', report: false },
      tracking: { runsDir: 'runs', mlflow: { uri: mlflow.uri } },
      sweep: { parameters: { seed: [5] } },
    });
    const client = new MlflowClient({ trackingUri: mlflow.uri, maxRetries: 2, backoffFactorMs: 100, backoffJitterMs: 0, timeoutMs: 30_000 });
    // A lock of 5 s: a loaded machine's late renewal is no stall; once this worker is killed, the job stalls within 5 s.
    const first = startCli(['worker', '--queue', redis.url, '--lock-seconds', '5'], { cwd: dir });
    processes.push(first);
    const coordinator = startCli(['run', file, '--queue', redis.url], { cwd: dir });
    processes.push(coordinator);
    const runs = join(dir, 'runs');

    // The trial trains on the first worker until MLflow has a checkpoint of epoch 2 or later.
    const trial = await waitFor(
      'the trial running',
      () =>
        readManifest(onlySweepDir(runs, name)!).trials.find((t) => t.status === 'running' && t.runId && t.runDir && existsSync(join(t.runDir, 'summary.json'))),
      90_000,
      coordinator.output,
    );
    const experimentId = (await client.getExperimentByName(name))?.experiment_id;
    const mlflowRun = async () =>
      (await client.searchRuns({ experimentIds: [experimentId!], filter: `tags.\`dcgan.runId\` = '${trial.runId}'` })).runs.map((r) => r.info.run_id);
    const pointer = async (runId: string) =>
      JSON.parse((await client.downloadArtifact(runId, 'checkpoints/latest.json')).toString('utf8')) as { checkpoint: string; epoch: number };
    let mlflowRunId = '';
    for (const deadline = Date.now() + 90_000; ; await new Promise((r) => setTimeout(r, 200))) {
      [mlflowRunId] = experimentId ? await mlflowRun() : [];
      const epoch = mlflowRunId
        ? await pointer(mlflowRunId).then(
            (p) => p.epoch,
            () => 0,
          )
        : 0;
      if (epoch >= 2) break;
      assert.ok(Date.now() < deadline, `no checkpoint of epoch 2 in MLflow\n${first.output()}`);
    }
    // The machine is lost: the worker and the trial's process at once, and its disk out of reach.
    const trialPid = readSummary(trial.runDir!).owner!.pid;
    first.child.kill('SIGKILL');
    process.kill(trialPid, 'SIGKILL');
    await first.done;
    const elsewhere = `${trial.runDir}.other-machine`;
    renameSync(trial.runDir!, elsewhere);
    const { checkpoint, epoch: resumedAt } = await pointer(mlflowRunId);
    assert.ok(resumedAt >= 2 && resumedAt < epochs, checkpoint);

    // A second worker with its own runs root takes the stalled job.
    const machineB = mkdtempSync(join(tmpdir(), 'dcgan-run-worker-b-'));
    const second = startCli(['worker', '--queue', redis.url, '--lock-seconds', '2'], { cwd: machineB });
    processes.push(second);
    const result = await coordinator.done;
    const logs = () => `${coordinator.output()}\n--- first worker\n${first.output()}\n--- second worker\n${second.output()}`;
    assert.equal(result.code, 0, logs());
    const record = readManifest(onlySweepDir(runs, name)!).trials[0];
    const runDir = resolve(machineB, 'runs', name, trial.runId!);
    assert.deepEqual([record.status, record.runId, record.runDir, record.attempts], ['finished', trial.runId, runDir, 1], logs());
    assert.match(
      second.output(),
      new RegExp(
        `\\] resumed from checkpoint ${checkpoint} downloaded from MLflow run ${mlflowRunId} \\(its run directory ${trial.runDir} on ${hostname()} is not reachable here\\): run ${trial.runId}`,
      ),
      logs(),
    );
    assert.match(
      second.output(),
      new RegExp(`resuming from ${checkpoint}: epoch ${resumedAt + 1}, step 1/`),
      'it goes on from the checkpoint, not from the start',
    );
    // The run directory on the second machine: every epoch once, the first ones from the download.
    const summary = readSummary(runDir);
    assert.deepEqual([summary.status, summary.epochsDone], ['finished', epochs]);
    assert.deepEqual(
      readMetrics(runDir)
        .filter((m) => m.type === 'epoch')
        .map((m) => m.epoch),
      Array.from({ length: epochs }, (_, i) => i + 1),
    );
    // The same MLflow run, finished, with each epoch's metrics once.
    assert.deepEqual(await mlflowRun(), [mlflowRunId], 'no second MLflow run');
    const run = await client.getRun(mlflowRunId);
    assert.equal(run.info.status, 'FINISHED');
    const history = await client.getMetricHistory(mlflowRunId, 'epoch/loss_D');
    assert.deepEqual(
      history.map((m) => m.step).sort((a, b) => a - b),
      Array.from({ length: epochs }, (_, i) => i + 1),
    );
    assert.deepEqual(await queueJobCounts(redis.url), { waiting: 0, active: 0, completed: 1, failed: 0, delayed: 0 });

    // Without MLflow, or without a checkpoint there, nothing is downloaded: the trial starts over, as before.
    const { tracking: _tracking, ...untracked } = config;
    assert.deepEqual(await downloadCheckpoint({ ...untracked, tracking: { runsDir: 'runs' } } as typeof config, trial.runId!, join(machineB, 'x'), {}), {
      reason: 'the trial does not log to MLflow',
    });
    assert.deepEqual(await downloadCheckpoint(config, 'no-such-run', join(machineB, 'y')), {
      reason: `no MLflow run of run no-such-run in experiment ${name}`,
    });
  },
);
