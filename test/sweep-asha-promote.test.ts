// sweep.earlyStop.promote (asynchronous successive halving's promotion, Li et al. 2018): the rule on fixed rung
// data, and end to end with tiny real trials, a trial pruned against one strong early trial that weaker trials
// reporting later at its rung promote; it resumes from its checkpoint and finishes, and a second run keeps it all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readMetrics } from '../src/track/run-dir.ts';
import { join } from 'node:path';
import { nextPromotion, promotableAt, type Rungs } from '../src/sweep/search/asha.ts';
import { onlySweepDir, readManifest, runCli } from './support/sweep-cli.ts';
import { tinyExperiment } from './support/tiny-config.ts';

test('promotion: a stopped trial goes on once its rung ranks it within the top 1/reductionFactor (the cut of a decision)', () => {
  // Rung 0: a 1, b 2 (b stopped when only a and b had reported: 2 values, top 1 is a), then c 3 and d 4.
  const rungs: Rungs = { a: [1, 1.5], b: [2], c: [3], d: [4] };
  // 4 values, reductionFactor 2: the top 2 (index floor(4/2) - 1 = 1, the value 2) go on.
  assert.equal(promotableAt(rungs, 'b', 0, 2, 'min'), true);
  assert.equal(promotableAt(rungs, 'c', 0, 2, 'min'), false);
  assert.equal(promotableAt(rungs, 'd', 0, 2, 'min'), false);
  // Three values only: the top 1 (index 0).
  assert.equal(promotableAt({ a: [1], b: [2], c: [3] }, 'b', 0, 2, 'min'), false);
  // max: the highest values are the best.
  assert.equal(promotableAt(rungs, 'c', 0, 2, 'max'), true);
  assert.equal(promotableAt(rungs, 'b', 0, 2, 'max'), false);
  // reductionFactor 3 on 6 values: the top 2 (index 1).
  const six: Rungs = { a: [1], b: [2], c: [3], d: [4], e: [5], f: [6] };
  assert.deepEqual(
    ['a', 'b', 'c'].map((t) => promotableAt(six, t, 0, 3, 'min')),
    [true, true, false],
  );
  // No value at the rung (a NaN report is not recorded): never promoted.
  assert.equal(promotableAt({ a: [1], b: [] }, 'b', 0, 2, 'min'), false);
  assert.equal(promotableAt({ a: [1, NaN] }, 'a', 1, 2, 'min'), false);

  // The one promoted first: the highest rung, then the best value there.
  const many: Rungs = { a: [1, 1, 1], b: [2, 3], c: [1.5], d: [5, 2], e: [6], f: [7], g: [8], h: [9, 4] };
  assert.deepEqual(
    nextPromotion(
      many,
      [
        { trial: 'c', rung: 0 },
        { trial: 'b', rung: 1 },
      ],
      2,
      'min',
    ),
    { trial: 'c', rung: 0, value: 1.5 },
    'b is not in the top half of rung 1 (1, 2, 3, 4): c goes',
  );
  assert.deepEqual(
    nextPromotion(
      many,
      [
        { trial: 'c', rung: 0 },
        { trial: 'd', rung: 1 },
      ],
      2,
      'min',
    ),
    { trial: 'd', rung: 1, value: 2 },
    'the higher rung first',
  );
  assert.deepEqual(
    nextPromotion(
      { ...many, d: [0.5] },
      [
        { trial: 'c', rung: 0 },
        { trial: 'd', rung: 0 },
      ],
      2,
      'min',
    ),
    { trial: 'd', rung: 0, value: 0.5 },
    'the best value at the rung',
  );
  assert.equal(nextPromotion(many, [{ trial: 'e', rung: 0 }], 2, 'min'), undefined);
});

const LR = 'train.optimizers.generator.learningRate';
const METRIC = 'swd/patch7/n10/avg';

test('promote: a trial pruned against a strong early trial is promoted once weaker ones report, resumed from its checkpoint, and kept on a second run', async () => {
  // Patch SWD after one epoch (seed 7, cpu): 0.05 2.29, 0.1 2.35, 0.0002 2.73, 0.001 2.73. In that order, one at a
  // time, with reductionFactor 2: 0.05 goes on; 0.1 is pruned at epoch 1 (2 values: only the best goes on), and so
  // are the two weak ones; with 4 values at rung 0 the top 2 go on, so 0.1 is promoted and finishes.
  const { file, dir } = tinyExperiment({
    name: 'asha-promote',
    train: { epochs: 2, samples: { count: 4 }, logEvery: 1, backend: 'cpu', report: false, eval: { samples: 10, metrics: ['patches'] } },
    tracking: { runsDir: 'runs' },
    sweep: {
      parallel: 1,
      objective: { metric: METRIC, mode: 'min' },
      earlyStop: { kind: 'asha', minEpochs: 1, reductionFactor: 2, promote: true },
      parameters: { [LR]: [0.05, 0.1, 0.0002, 0.001] },
    },
  });
  const first = await runCli(['run', file], { cwd: dir });
  assert.equal(first.code, 0, first.stderr);
  const sweepDir = onlySweepDir(join(dir, 'runs'), 'asha-promote')!;
  const manifest = readManifest(sweepDir);
  assert.equal(manifest.status, 'finished');
  assert.deepEqual(
    manifest.trials.map((t) => [t.values[LR], t.status]),
    [
      [0.05, 'finished'],
      [0.1, 'finished'],
      [0.0002, 'pruned'],
      [0.001, 'pruned'],
    ],
    first.stderr,
  );
  const promoted = manifest.trials[1];
  assert.equal(promoted.promoted?.length, 1);
  assert.deepEqual({ rung: promoted.promoted![0].rung, epoch: promoted.promoted![0].epoch }, { rung: 0, epoch: 1 });
  assert.equal(promoted.pruned, null);
  assert.equal(promoted.attempts, 2);
  assert.equal(promoted.epochsDone, 2);
  assert.equal(promoted.earlierRuns, undefined, 'the same run, resumed');
  assert.match(first.stderr, new RegExp(`^\\[${promoted.name}\\] promoted at epoch 1 \\(rung 0\\)`, 'm'));
  assert.match(first.stderr, new RegExp(`^\\[${promoted.name}\\] resumed from its checkpoint: run ${promoted.runId}`, 'm'));
  // Each epoch once in its run directory: epoch 1 from the first session, epoch 2 after the promotion.
  assert.deepEqual(
    readMetrics(promoted.runDir!)
      .filter((record) => record.type === 'epoch')
      .map((record) => record.epoch),
    [1, 2],
  );
  const csv = readFileSync(join(sweepDir, 'summary.csv'), 'utf8');
  assert.match(csv, new RegExp(`${promoted.name}.*,finished,.*promoted at epoch 1`));
  assert.match(first.stdout, /promoted at epoch 1/);

  const again = await runCli(['run', file], { cwd: dir });
  assert.equal(again.code, 0, again.stderr);
  const resumed = readManifest(sweepDir);
  assert.deepEqual(
    resumed.trials.map((t) => [t.status, t.attempts, t.promoted ?? null]),
    manifest.trials.map((t) => [t.status, t.attempts, t.promoted ?? null]),
    'nothing run again',
  );
  assert.doesNotMatch(again.stderr, /promoted at/);
});
