// Runs that fail: divergence, a runs folder that cannot be written, a full disk at a checkpoint. Each ends
// as `failed` with one message that says what happened (no stack trace), and keeps its last good checkpoint.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../src/errors.ts';
import { loadLayersModel } from '../src/model/io.ts';
import { latestCheckpoint } from '../src/track/run-checkpoints.ts';
import type { Progress } from '../src/train/progress.ts';
import { train } from '../src/train/trainer.ts';
import { readLossRecords, readRunSummary } from '../src/track/run-dir.ts';
import { runCli } from './support/sweep-cli.ts';
import { tinyExperiment } from './support/tiny-config.ts';

const silent: Progress = { startEpoch() {}, step() {}, endEpoch() {}, log() {} };

/**
 * Adam without its second-moment average (beta2 0) and with a vanishing epsilon steps by m / |g|, which explodes
 * wherever a gradient nearly vanishes: with init std 10 the tiny model's losses or weights leave the floats
 * within a few epochs on the cpu backend. Where exactly is chaotic, so the tests read it from the message.
 */
const ADAM = '{kind: adam, learningRate: 0.1, beta1: 0.9, beta2: 0, epsilon: 1.0e-30}';
const DIVERGING = [`train.optimizers.generator=${ADAM}`, `train.optimizers.discriminator=${ADAM}`, 'model.init={kind: normal, std: 10}'];
const ADVICE =
  'Lower the learning rates (train.optimizers.generator.learningRate 0.1, train.optimizers.discriminator.learningRate 0.1), or train with a stabler recipe (configs/pokemon-stable.yaml)';
const DIVERGED = /^training diverged at step (\d+) \(epoch (\d+)\): (.+); the run stopped without saving these weights \((.+)\)\. (.+)$/m;
const STACK_TRACE = /^\s+at /m;

const onlyRun = (runsDir: string) => {
  const runs = readdirSync(join(runsDir, 'tiny'));
  assert.equal(runs.length, 1, runs.join(', '));
  return join(runsDir, 'tiny', runs[0]);
};

/** Every path under `dir`, relative to it. */
const tree = (dir: string) => readdirSync(dir, { recursive: true, encoding: 'utf8' });

async function assertFiniteWeights(checkpoint: string): Promise<void> {
  for (const net of ['generator', 'discriminator']) {
    const model = await loadLayersModel(join(checkpoint, net));
    for (const weight of model.weights) assert.ok(weight.read().dataSync().every(Number.isFinite), `${checkpoint}/${net}: ${weight.originalName}`);
    model.dispose();
  }
}

test('a run that diverges stops as failed at that step, names the losses, keeps its last good checkpoint and exits 1', async () => {
  const { file, dir } = tinyExperiment();
  const result = await runCli(['run', file, ...DIVERGING, 'train.epochs=6', 'train.logEvery=10'], { cwd: dir });
  assert.equal(result.code, 1, result.stderr);
  assert.doesNotMatch(result.stderr, STACK_TRACE);
  const [line, step, epoch, what, kept, advice] = DIVERGED.exec(result.stderr) ?? assert.fail(result.stderr);
  assert.match(
    what,
    /^(?:(?:lossD|lossG|dReal|dFake) is (?:NaN|-?Infinity)(?:, |$))+$|^weights are not finite \(NaN or infinite\) while the losses still were: /,
  );
  assert.equal(advice, ADVICE);
  const diverged = { step: Number(step), epoch: Number(epoch) };

  const runDir = onlyRun(join(dir, 'runs'));
  const summary = readRunSummary(runDir);
  assert.equal(summary.status, 'failed');
  assert.equal(summary.error, line);
  assert.equal(summary.epochsDone, diverged.epoch - 1);

  // Checkpoints of the epochs before, all finite; none of the diverged epoch's weights.
  const good = Array.from({ length: diverged.epoch - 1 }, (_, i) => `epoch-${String(i + 1).padStart(4, '0')}`);
  assert.deepEqual(readdirSync(join(runDir, 'checkpoints')).sort(), good.length > 0 ? [...good, 'latest.json'] : []);
  if (good.length > 0) {
    assert.equal(kept, `the last good checkpoint, ${good.at(-1)}, is kept`);
    assert.ok(latestCheckpoint(runDir).endsWith(good.at(-1)!));
    for (const name of good) await assertFiniteWeights(join(runDir, 'checkpoints', name));
  } else {
    assert.equal(kept, 'no checkpoint had been written yet');
  }

  // metrics.jsonl: the finite steps before the diverged one, and no null that JSON makes of NaN.
  assert.doesNotMatch(readFileSync(join(runDir, 'metrics.jsonl'), 'utf8'), /null/);
  const records = readLossRecords(runDir);
  const steps = records.filter((r) => r.type === 'step').map((r) => r.step);
  assert.deepEqual(steps, Array.from({ length: diverged.step - 1 }, (_, i) => i + 1).slice(-steps.length));
  for (const record of records)
    for (const key of ['lossD', 'lossG', 'dReal', 'dFake'] as const) assert.ok(Number.isFinite(record[key]), JSON.stringify(record));
});

test('weights that stop being finite while the losses still are stop the run too, before any checkpoint of them', async () => {
  // Batch norm normalizes by the batch's statistics in training: an infinite moving variance leaves the losses
  // finite and only shows in the samples, sample and eval. Here it is made infinite after step 4.
  const { config, file } = tinyExperiment({}, ['train.epochs=3']);
  let steps = 0;
  const breakMovingVariance = () => {
    if (++steps !== 4) return;
    const variances = Object.entries(tf.engine().state.registeredVariables).filter(([name]) => /^g_block2_bn\/moving_variance(_\d+)?$/.test(name));
    const variance = variances.at(-1)![1];
    variance.assign(tf.fill(variance.shape, Infinity));
  };
  const { runDir, summary } = await train(config, { configFile: file, progress: { ...silent, step: breakMovingVariance } });
  assert.equal(summary.status, 'failed');
  assert.equal(
    summary.error,
    'training diverged at step 5 (epoch 2): weights are not finite (NaN or infinite) while the losses still were: generator g_block2_bn/moving_variance; ' +
      'the run stopped without saving these weights (the last good checkpoint, epoch-0001, is kept). ' +
      'Lower the learning rates (train.optimizers.generator.learningRate 0.005, train.optimizers.discriminator.learningRate 0.005), or train with a stabler recipe (configs/pokemon-stable.yaml)',
  );
  assert.deepEqual(readRunSummary(runDir), summary);
  assert.deepEqual(readdirSync(join(runDir, 'checkpoints')).sort(), ['epoch-0001', 'latest.json']);
  await assertFiniteWeights(latestCheckpoint(runDir));
  assert.deepEqual(
    readLossRecords(runDir)
      .filter((r) => r.type === 'step')
      .map((r) => r.step),
    [1, 2, 3, 4, 5],
  );
  assert.deepEqual(readdirSync(join(runDir, 'samples')), ['epoch-0001.png'], 'no grid drawn by the broken weights');
});

test('a runs folder under a regular file is refused before the data is loaded, naming tracking.runsDir (exit 2)', async () => {
  const { file, dir } = tinyExperiment();
  const blocker = join(dir, 'not-a-folder');
  writeFileSync(blocker, 'a file where the runs folder should go\n');
  const result = await runCli(['run', file, `tracking.runsDir=${blocker}/runs`], { cwd: dir });
  assert.equal(result.code, 2, result.stderr);
  assert.equal(result.stderr, `tracking.runsDir: cannot write into ${blocker}/runs: ${blocker} is a file, not a folder\n`);
  assert.ok(!existsSync(join(dir, '.cache')), 'the data was not loaded (nothing was cached)');
});

// A real full file system: a tmpfs of a fixed size (mounting needs root; elsewhere these tests are skipped).
const mounts: string[] = [];
function mountTmpfs(options: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'dcgan-run-tmpfs-'));
  const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { encoding: 'utf8' });
  assert.equal(mount.status, 0, mount.stderr);
  mounts.push(dir);
  return dir;
}
after(() => {
  for (const dir of mounts) {
    spawnSync('umount', [dir]);
    rmdirSync(dir);
  }
});
const probe = mkdtempSync(join(tmpdir(), 'dcgan-run-mount-probe-'));
const canMount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]).status === 0 && spawnSync('umount', [probe]).status === 0;
rmdirSync(probe);
const needsMount = canMount ? {} : { skip: 'mounting a tmpfs needs root: no real full or read-only file system here' };

test('a read-only runs folder is refused before the data is loaded, naming tracking.runsDir (exit 2)', needsMount, async () => {
  const readOnly = mountTmpfs('ro,size=64k');
  const { file, dir } = tinyExperiment();
  const result = await runCli(['run', file, `tracking.runsDir=${readOnly}/runs`], { cwd: dir });
  assert.equal(result.code, 2, result.stderr);
  assert.equal(result.stderr, `tracking.runsDir: cannot write into ${readOnly}/runs: ${readOnly} is on a read-only file system\n`);
  assert.ok(!existsSync(join(dir, '.cache')));
});

/**
 * A checkpoint of this model is about 880 kB and the rest of a run directory under 100 kB: on a 2200 kB tmpfs
 * the checkpoints of epochs 1 and 2 fit and the third does not.
 */
const FILLS_AT_EPOCH_3 = ['model.generator.baseChannels=32', 'model.discriminator.baseChannels=32', 'train.epochs=3', 'train.samples.every=1000'];

test(
  'a full disk at a checkpoint: the run fails with that error, removes its partial checkpoint and keeps the last good one (exit 2)',
  needsMount,
  async () => {
    const disk = mountTmpfs('size=2200k');
    const { file, dir } = tinyExperiment();
    const result = await runCli(['run', file, `tracking.runsDir=${disk}/runs`, ...FILLS_AT_EPOCH_3], { cwd: dir });
    assert.equal(result.code, 2, result.stderr);
    assert.doesNotMatch(result.stderr, STACK_TRACE);
    const runDir = onlyRun(join(disk, 'runs'));
    const message = `no space left on device while writing checkpoint epoch-0003 to ${runDir}/checkpoints/epoch-0003`;
    assert.ok(result.stderr.endsWith(`\n${message}\n`), result.stderr);

    const summary = readRunSummary(runDir);
    assert.equal(summary.status, 'failed');
    assert.equal(summary.error, message);
    assert.equal(summary.epochsDone, 2);
    assert.deepEqual(
      tree(join(runDir, 'checkpoints'))
        .filter((path) => !path.includes('/'))
        .sort(),
      ['epoch-0001', 'epoch-0002', 'latest.json'],
    );
    assert.deepEqual(JSON.parse(readFileSync(join(runDir, 'checkpoints', 'latest.json'), 'utf8')), { checkpoint: 'epoch-0002', epoch: 2, step: 6 });
    await assertFiniteWeights(latestCheckpoint(runDir));
    assert.deepEqual(
      tree(runDir).filter((path) => path.includes('.tmp-')),
      [],
      'no temporary files left on the full disk',
    );
  },
);

test('a full disk at a checkpoint, and then the summary cannot be written either: the error says both, the checkpoint first', needsMount, async () => {
  const disk = mountTmpfs('size=2200k');
  const { config, file } = tinyExperiment({}, [`tracking.runsDir=${disk}/runs`, ...FILLS_AT_EPOCH_3]);
  let runDir = '';
  let epochs = 0;
  // After epoch 3's last summary: a folder where the final summary's temporary file goes.
  const progress: Progress = {
    ...silent,
    log: (line) => (runDir = /^run: (.+)$/.exec(line)?.[1] ?? runDir),
    endEpoch: () => {
      if (++epochs === 3) mkdirSync(join(runDir, `summary.json.tmp-${process.pid}`));
    },
  };
  await assert.rejects(train(config, { configFile: file, progress }), (error: Error) => {
    assert.ok(error instanceof UserError, error.stack);
    assert.equal(
      error.message,
      `no space left on device while writing checkpoint epoch-0003 to ${runDir}/checkpoints/epoch-0003; ` +
        `${runDir}/summary.json could not be written either (EISDIR: illegal operation on a directory, open '${runDir}/summary.json.tmp-${process.pid}'): it still says "running"`,
    );
    return true;
  });
  assert.equal(readRunSummary(runDir).status, 'running');
  assert.ok(latestCheckpoint(runDir).endsWith('epoch-0002'));
  assert.deepEqual(
    tree(runDir).filter((path) => path.includes('.tmp-')),
    [],
  );
});

test('train.eval on too little data is a clear error naming the key, before training (exit 2)', async () => {
  const { file, dir } = tinyExperiment();
  const result = await runCli(['run', file, '--quiet', 'data.limit=16', 'train.eval={every: 1, samples: 100, metrics: [patches]}'], { cwd: dir });
  assert.equal(result.code, 2, result.stderr);
  assert.match(
    result.stderr,
    /^train\.eval: the dataset's 16 images give samples of 8 \(half of them for the real-vs-real floor\); the metrics need at least 10: use more data \(data\.limit\) or leave train\.eval out$/m,
  );
  assert.doesNotMatch(result.stderr, STACK_TRACE);
});
