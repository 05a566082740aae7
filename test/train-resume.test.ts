// Resuming a run: interrupted at a step and resumed, it trains to the same losses and weights as a run that
// was never interrupted; checkpoints and the summary say where in the epoch it stopped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { availableBackends } from '../src/backend/select.ts';
import { loadExperiment } from '../src/config/load-experiment.ts';
import { UserError } from '../src/errors.ts';
import { latestCheckpoint } from '../src/track/run-checkpoints.ts';
import type { Progress } from '../src/train/progress.ts';
import { prepareResume } from '../src/train/resume.ts';
import { train } from '../src/train/trainer.ts';
import { readMetrics, readRunConfig } from '../src/track/run-dir.ts';
import type { RunSummary } from '../src/track/run-types.ts';
import { runCli } from './support/sweep-cli.ts';
import { STABLE, tinyExperiment } from './support/tiny-config.ts';

const silent: Progress = { startEpoch() {}, step() {}, endEpoch() {}, log() {} };
const backends = (await availableBackends()).filter((name) => name === 'cpu' || name === 'tensorflow');

/** What must not depend on an interruption: every loss line (speed and time aside) and every saved number of the last checkpoint. */
function outcome(runDir: string) {
  const lines = readMetrics(runDir).map((r) =>
    r.type === 'eval' ? r : { type: r.type, step: r.step, epoch: r.epoch, lossD: r.lossD, lossG: r.lossG, dReal: r.dReal, dFake: r.dFake },
  );
  const checkpoint = latestCheckpoint(runDir);
  const files = ['generator', 'discriminator', 'generator-ema']
    .map((net) => join(net, 'weights.bin'))
    .concat('optimizer-generator.bin', 'optimizer-discriminator.bin');
  const saved = files.filter((name) => existsSync(join(checkpoint, name)));
  const weights = Object.fromEntries(saved.map((name) => [name, new Float32Array(new Uint8Array(readFileSync(join(checkpoint, name))).buffer)]));
  return { lines, weights };
}

function assertSame(actual: ReturnType<typeof outcome>, expected: ReturnType<typeof outcome>, tolerance: number) {
  assert.deepEqual(
    actual.lines.map((r) => [r.type, r.step, r.epoch]),
    expected.lines.map((r) => [r.type, r.step, r.epoch]),
    'the same lines, none twice, none missing',
  );
  if (tolerance === 0) return assert.deepEqual(actual, expected);
  const close = (a: number, b: number) => Math.abs(a - b) <= tolerance * Math.max(Math.abs(b), 1e-6);
  actual.lines.forEach((line, i) => {
    for (const key of ['lossD', 'lossG', 'dReal', 'dFake'] as const) {
      if (line.type !== 'eval' && expected.lines[i]!.type !== 'eval')
        assert.ok(close(line[key], (expected.lines[i] as typeof line)[key]), `${key} of line ${i + 1}`);
    }
  });
  for (const [file, values] of Object.entries(expected.weights)) {
    const got = actual.weights[file]!;
    assert.equal(got.length, values.length);
    values.forEach((v, i) => assert.ok(close(got[i]!, v), `${file}[${i}]: ${got[i]} vs ${v}`));
  }
}

for (const backend of backends) {
  const tolerance = backend === 'cpu' ? 0 : 1e-6;
  for (const [label, options] of [
    ['the lesson', []],
    ['the stable options', STABLE],
  ] as const) {
    test(`a run stopped mid-epoch and resumed equals an uninterrupted one: ${label}, ${backend} backend`, async () => {
      const overrides = [`train.backend=${backend}`, 'train.epochs=3', 'train.checkpoint.every=2', ...options];
      const { config, file } = tinyExperiment({}, overrides);
      const whole = await train(config, { configFile: file, progress: silent });
      assert.equal(whole.summary.steps, 9);

      // 20 images in batches of 8: 3 steps an epoch. Stopped after step 4, the second epoch's first.
      let steps = 0;
      const stopped = await train(config, { configFile: file, progress: { ...silent, step: () => (steps += 1) }, shouldStop: () => steps >= 4 });
      assert.equal(stopped.summary.status, 'stopped');
      assert.equal(stopped.summary.epochsDone, 1);
      assert.equal(stopped.summary.steps, 4);
      assert.deepEqual(stopped.summary.position, { epoch: 2, stepInEpoch: 1, stepsPerEpoch: 3 });
      assert.ok(latestCheckpoint(stopped.runDir).endsWith('epoch-0002-step-00000004'));
      const state = JSON.parse(readFileSync(join(latestCheckpoint(stopped.runDir), 'state.json'), 'utf8'));
      assert.deepEqual([state.epoch, state.step, state.stepInEpoch, state.stepsPerEpoch], [2, 4, 1, 3]);
      assert.deepEqual(Object.keys(state.random).sort(), options.length ? ['augment', 'noise'] : ['noise']);
      assert.deepEqual(
        readMetrics(stopped.runDir)
          .filter((r) => r.type === 'epoch')
          .map((r) => r.epoch),
        [1],
        'no line for the unfinished epoch',
      );

      const logged: string[] = [];
      const resumed = await train(config, {
        configFile: file,
        progress: { ...silent, log: (line) => logged.push(line) },
        resume: prepareResume(stopped.runDir, config),
      });
      assert.ok(logged.includes('resuming from epoch-0002-step-00000004: epoch 2, step 2/3 (step 5 of the run)'), logged.join('\n'));
      assert.equal(resumed.runDir, stopped.runDir);
      assert.equal(resumed.summary.status, 'finished');
      assert.equal(resumed.summary.epochsDone, 3);
      assert.equal(resumed.summary.steps, 9);
      assertSame(outcome(resumed.runDir), outcome(whole.runDir), tolerance);
    });
  }
}

test('a crashed run resumes from its last checkpoint and drops the metric lines after it; train.epochs extends a finished run', async () => {
  const { config, file } = tinyExperiment({}, ['train.epochs=2']);
  const { runDir } = await train(config, { configFile: file, progress: silent });
  const whole = outcome(runDir);

  // Nothing to do with the same epochs; a config change is refused with the keys that differ.
  assert.throws(
    () => prepareResume(runDir, config),
    (e: Error) => e instanceof UserError && /nothing to resume, the run has trained all 2 epochs; extend it with --set train.epochs=3/.test(e.message),
  );
  const changed = tinyExperiment({}, ['train.epochs=3', 'data.batchSize=4', 'seed=9']).config;
  assert.throws(
    () => prepareResume(runDir, { ...changed, tracking: config.tracking }),
    (e: Error) => e instanceof UserError && /only train\.epochs may change/.test(e.message) && /  data\.batchSize 8 -> 4\n  seed 7 -> 9$/.test(e.message),
  );
  const summaryPath = join(runDir, 'summary.json');
  const summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as RunSummary;

  // A crash after the checkpoint leaves lines of steps that are trained again, and a line cut short.
  appendFileSync(join(runDir, 'metrics.jsonl'), `${JSON.stringify({ ...readMetrics(runDir).at(-2), step: 7, epoch: 3 })}\n{"type":"st`);
  // Extended to 3 epochs, it matches a run of 3 epochs from the start.
  const longer = loadExperiment(file, ['train.epochs=3']).config;
  const extended = await train(longer, { configFile: file, progress: silent, resume: prepareResume(runDir, longer) });
  assert.equal(extended.summary.status, 'finished');
  assert.equal(extended.summary.startedAt, summary.startedAt);
  assert.ok(extended.summary.wallSeconds > summary.wallSeconds);
  const three = await train(longer, { configFile: file, progress: silent });
  assert.deepEqual(outcome(extended.runDir), outcome(three.runDir));
  assert.notDeepEqual(whole, outcome(three.runDir));
});

test('the resume command and run --resume: refused changes exit 2 naming the keys; train.epochs extends the run', async () => {
  const { file, dir } = tinyExperiment();
  const first = await runCli(['run', file, '--quiet', '--set', 'train.epochs=1'], { cwd: dir });
  assert.equal(first.code, 0, first.stderr);
  const runDir = join(dir, 'runs', 'tiny', readdirSync(join(dir, 'runs', 'tiny'))[0]!);

  const changed = await runCli(['resume', runDir, '--set', 'seed=3', '--set', 'train.epochs=2'], { cwd: dir });
  assert.equal(changed.code, 2, changed.stderr);
  assert.equal(changed.stderr, `${runDir}: cannot resume with a changed config; only train.epochs may change (to extend the run). Changed:\n  seed 7 -> 3\n`);
  const same = await runCli(['run', file, '--resume', runDir, '--set', 'train.epochs=1'], { cwd: dir });
  assert.equal(same.code, 2, same.stderr);
  assert.match(same.stderr, /nothing to resume, the run has trained all 1 epochs; extend it with --set train.epochs=2/);

  const extended = await runCli(['resume', runDir, '--set', 'train.epochs=2'], { cwd: dir });
  assert.equal(extended.code, 0, extended.stderr);
  assert.match(extended.stderr, /resuming from epoch-0001: epoch 2, step 1\/3 \(step 4 of the run\)/);
  assert.match(extended.stderr, /finished: 2\/2 epochs in /);
  assert.deepEqual(
    readMetrics(runDir)
      .filter((r) => r.type === 'step')
      .map((r) => r.step),
    [1, 2, 3, 4, 5, 6],
  );
  assert.deepEqual(readdirSync(join(dir, 'runs', 'tiny')), [runDir.split('/').at(-1)], 'no second run directory');
});

test('a run written before a schema key existed resumes, the key taking its default', async () => {
  const { file, dir } = tinyExperiment({}, []);
  const first = await runCli(['run', file, '--quiet', '--set', 'train.epochs=1', '--set', 'train.ema={beta: 0.5}'], { cwd: dir });
  assert.equal(first.code, 0, first.stderr);
  const runDir = join(dir, 'runs', 'tiny', readdirSync(join(dir, 'runs', 'tiny'))[0]!);
  // As an older dcgan-run wrote it: train.ema without its later key `statistics`.
  const written = parse(readFileSync(join(runDir, 'config.yaml'), 'utf8')) as { train: { ema: Record<string, unknown> } };
  assert.equal(written.train.ema.statistics, 8);
  delete written.train.ema.statistics;
  writeFileSync(join(runDir, 'config.yaml'), stringify(written));

  assert.equal((readRunConfig(runDir).train.ema as { statistics: number }).statistics, 8);
  const resumed = await runCli(['resume', runDir, '--set', 'train.epochs=2'], { cwd: dir });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /finished: 2\/2 epochs in /);
});
