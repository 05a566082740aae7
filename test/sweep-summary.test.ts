import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { expandSweep } from '../src/config/sweep-expand.ts';
import { describeDefinitionChange, SweepDirectory, trialsHash, type SweepManifest, type TrialRecord } from '../src/track/sweep-manifest.ts';
import { SORT_KEYS, summaryCsv, summaryMarkdown, summaryRows, summaryText } from '../src/sweep/summary.ts';
import { formatDuration } from '../src/sweep/runner.ts';
import { tinyExperiment } from './support/tiny-config.ts';

const LR = 'train.optimizers.generator.learningRate';

function record(
  index: number,
  lr: number,
  status: TrialRecord['status'],
  metrics: [number, number, number, number] | null,
  error: string | null = null,
): TrialRecord {
  return {
    index,
    name: `00${index}-learningRate=${lr}`,
    values: { [LR]: lr, 'model.discriminator.activation': { kind: 'leakyRelu', alpha: 0.2 } },
    configHash: 'x',
    status,
    attempts: 1,
    runId: `run-${index}`,
    runDir: `/runs/e/run-${index}`,
    error,
    metrics: metrics && { epoch: 3, lossD: metrics[0], lossG: metrics[1], dReal: metrics[2], dFake: metrics[3] },
    startedAt: null,
    endedAt: null,
    wallSeconds: 10,
  };
}

const manifest: SweepManifest = {
  version: 1,
  sweepId: 'sweep-x',
  experiment: 'e',
  configFile: '/c.yaml',
  definitionHash: 'abcdef0123456789',
  strategy: 'grid',
  parallel: 2,
  status: 'failed',
  createdAt: '',
  updatedAt: '',
  owner: null,
  mlflow: null,
  trials: [
    record(0, 0.1, 'finished', [0.2, 3.1, 0.95, 0.05]), // D wins: balance 0.9
    record(1, 0.2, 'failed', null, 'data.source.root: the folder /x does not exist'),
    record(2, 0.3, 'finished', [0.69, 0.7, 0.52, 0.47]), // balance 0.05
    record(3, 0.4, 'stopped', [0.69, 0.69, 0.5, 0.5], 'stopped after 1/3 epochs (interrupted)'),
    record(4, 0.5, 'finished', [0.6, 1.0, 0.6, 0.4]), // balance 0.2
  ],
};

test('finished trials are ranked by balance, lowest first; the others follow unranked in sweep order', () => {
  const rows = summaryRows(manifest);
  assert.deepEqual(
    rows.map((r) => [r.rank, r.trial.index]),
    [
      [1, 2],
      [2, 4],
      [3, 0],
      [null, 1],
      [null, 3],
    ],
  );
  assert.ok(Math.abs(rows[0].score! - 0.05) < 1e-12);
  const byLoss = summaryRows(manifest, SORT_KEYS.lossD);
  assert.deepEqual(
    byLoss.map((r) => r.trial.index),
    [2, 4, 0, 1, 3],
  );
});

test('summary.csv has a header, a row per trial with its swept values, metrics and errors', () => {
  const csv = summaryCsv(manifest);
  const lines = csv.trimEnd().split('\n');
  assert.equal(lines.length, 6);
  assert.equal(lines[0], `rank,trial,status,${LR},model.discriminator.activation,epochs,lossD,lossG,dReal,dFake,balance,runId,error`);
  assert.equal(lines[1], '1,002-learningRate=0.3,finished,0.3,"{""kind"":""leakyRelu"",""alpha"":0.2}",3,0.6900,0.7000,0.5200,0.4700,0.0500,run-2,');
  assert.ok(lines[4].startsWith(',001-learningRate=0.2,failed,0.2,'));
  assert.ok(lines[4].endsWith(',run-1,data.source.root: the folder /x does not exist'));
});

test('summary.md states the sort key and lists the errors', () => {
  const md = summaryMarkdown(manifest);
  assert.match(md, /^# Sweep sweep-x of e/);
  assert.match(md, /Sorted by balance = \|dReal - 0\.5\| \+ \|dFake - 0\.5\| at the last epoch, lowest first/);
  assert.match(md, /5 trials \(grid\): 3 finished, 1 failed, 1 stopped/);
  assert.match(md, /\| 1 \| 002-learningRate=0\.3 \| finished \| 0\.3 \|/);
  assert.match(md, /## Errors\n\n- \*\*001-learningRate=0\.2\*\* \(failed\): data\.source\.root: the folder \/x does not exist/);
  const table = md.split('\n').filter((line) => line.startsWith('|'));
  assert.equal(table.length, 2 + 5);
  assert.ok(
    table.every((line) => line.split(' | ').length === table[0].split(' | ').length),
    'every row has every column',
  );
  const text = summaryText(manifest);
  assert.match(text, /^Sorted by balance/);
  assert.match(text, /Errors:\n {2}001-learningRate=0\.2 \(failed\): data\.source\.root/);
});

test('a changed definition is described trial by trial', () => {
  const sweep = { parameters: { [LR]: [0.001, 0.002] } };
  const { config, dir } = tinyExperiment({ sweep });
  const directory = SweepDirectory.create(`${dir}/runs`, config, `${dir}/tiny.yaml`, expandSweep(config));
  assert.equal(directory.manifest.definitionHash, trialsHash(expandSweep(config)));
  assert.deepEqual(parse(readFileSync(directory.file('sweep.yaml'), 'utf8')).sweep, config.sweep);
  assert.equal(JSON.parse(readFileSync(directory.file('trials.json'), 'utf8')).length, 2);
  assert.deepEqual(
    directory.manifest.trials.map((t) => t.status),
    ['pending', 'pending'],
  );

  const longer = expandSweep(tinyExperiment({ sweep }, ['train.epochs=5']).config);
  assert.deepEqual(describeDefinitionChange(directory, longer), [
    'trial 000-learningRate=0.001 changed: train.epochs 2 -> 5',
    'trial 001-learningRate=0.002 changed: train.epochs 2 -> 5',
  ]);
  const other = expandSweep(tinyExperiment({ sweep: { parameters: { [LR]: [0.001, 0.003, 0.004] } } }).config);
  assert.deepEqual(describeDefinitionChange(directory, other), [
    '2 trials in the sweep directory, 3 now',
    'trial 001-learningRate=0.003 is new',
    'trial 002-learningRate=0.004 is new',
    'trial 001-learningRate=0.002 is gone',
  ]);
  assert.equal(SweepDirectory.findLatest(`${dir}/runs`, 'tiny', directory.manifest.definitionHash)?.path, directory.path);
  assert.equal(SweepDirectory.findLatest(`${dir}/runs`, 'tiny', 'other'), undefined);
});

test('durations read as seconds, minutes or hours', () => {
  assert.deepEqual([5, 65, 3600 + 120].map(formatDuration), ['5s', '1m05s', '1h02m']);
});

/** A sweep with an objective: finished trials with and without a value, pruned ones at two epochs, a failed and a stopped one. */
function objectiveManifest(mode: 'min' | 'max'): SweepManifest {
  const withObjective = (r: TrialRecord, value: number | null, epoch = 3): TrialRecord => ({ ...r, objective: { epoch, value: value as number } });
  const prunedAt = (r: TrialRecord, epoch: number, value: number): TrialRecord => ({
    ...withObjective({ ...r, status: 'pruned' }, value, epoch),
    pruned: { rung: epoch === 1 ? 0 : 1, epoch, value },
  });
  return {
    ...manifest,
    sweepId: 'sweep-o',
    objective: { metric: 'swd/patch7/n10/avg', mode },
    trials: [
      withObjective(record(0, 0.1, 'finished', [0.2, 3.1, 0.95, 0.05]), 0.3),
      prunedAt(record(1, 0.2, 'finished', [0.7, 0.7, 0.5, 0.5]), 1, 0.9),
      withObjective(record(2, 0.3, 'finished', [0.69, 0.7, 0.52, 0.47]), 0.1),
      record(3, 0.4, 'failed', null, 'the trial diverged'),
      prunedAt(record(4, 0.5, 'finished', [0.6, 1.0, 0.6, 0.4]), 3, 0.5),
      withObjective(record(5, 0.6, 'finished', [0.6, 1.0, 0.6, 0.4]), 0.2),
      // NaN at its last evaluation: JSON keeps it as null; finished, but with nothing to rank it by.
      withObjective(record(6, 0.7, 'finished', [0.6, 1.0, 0.6, 0.4]), null),
      record(7, 0.8, 'stopped', [0.69, 0.69, 0.5, 0.5], 'stopped after 1/3 epochs (interrupted)'),
      prunedAt(record(8, 0.9, 'finished', [0.6, 1.0, 0.6, 0.4]), 1, 0.4),
    ],
  };
}

test('with sweep.objective, finished trials are ranked by it (min: lowest first), then the unranked, the pruned (furthest first), the failed', () => {
  const rows = summaryRows(objectiveManifest('min'));
  assert.deepEqual(
    rows.map((r) => [r.rank, r.trial.index, r.trial.status]),
    [
      [1, 2, 'finished'],
      [2, 5, 'finished'],
      [3, 0, 'finished'],
      [null, 6, 'finished'],
      [null, 7, 'stopped'],
      [null, 4, 'pruned'],
      [null, 8, 'pruned'],
      [null, 1, 'pruned'],
      [null, 3, 'failed'],
    ],
  );
  assert.deepEqual(
    rows.slice(0, 3).map((r) => r.score),
    [0.1, 0.2, 0.3],
  );
  // max: highest first, among the finished and among the pruned of one epoch.
  assert.deepEqual(
    summaryRows(objectiveManifest('max')).map((r) => [r.rank, r.trial.index]),
    [
      [1, 0],
      [2, 5],
      [3, 2],
      [null, 6],
      [null, 7],
      [null, 4],
      [null, 1],
      [null, 8],
      [null, 3],
    ],
  );
  // An explicit key still ranks by it.
  assert.deepEqual(
    summaryRows(objectiveManifest('min'), SORT_KEYS.balance)
      .filter((r) => r.rank !== null)
      .map((r) => r.trial.index),
    [2, 5, 6, 0],
  );
});

test('with sweep.objective, its column comes right after the trial name in every table, and the note says the order', () => {
  const m = objectiveManifest('min');
  const csv = summaryCsv(m).trimEnd().split('\n');
  assert.equal(csv[0], `rank,trial,swd/patch7/n10/avg,status,${LR},model.discriminator.activation,epochs,lossD,lossG,dReal,dFake,balance,runId,error`);
  assert.ok(csv[1].startsWith('1,002-learningRate=0.3,0.1000,finished,0.3,'), csv[1]);
  assert.ok(csv[4].startsWith(',006-learningRate=0.7,NaN,finished,'), csv[4]);
  assert.ok(csv[6].startsWith(',004-learningRate=0.5,0.5000,pruned,'), csv[6]);
  assert.ok(csv[6].endsWith(",run-4,pruned at epoch 3 (rung 1): swd/patch7/n10/avg 0.5000 not in the rung's top share"), csv[6]);
  assert.ok(csv[9].startsWith(',003-learningRate=0.4,,failed,'), csv[9]);
  const md = summaryMarkdown(m);
  assert.match(
    md,
    /Sorted by swd\/patch7\/n10\/avg \(sweep\.objective\) at the last evaluation, lowest first\. Only finished trials are ranked; pruned trials follow \(the furthest first\), failed ones come last\./,
  );
  assert.match(md, /\| rank \| trial \| swd\/patch7\/n10\/avg \| status \|/);
  assert.match(md, /\| ---: \| --- \| ---: \| --- \|/);
  assert.match(md, /\| 1 \| 002-learningRate=0\.3 \| 0\.1000 \| finished \|/);
  const text = summaryText(objectiveManifest('max')).split('\n');
  assert.match(text[0], /^Sorted by swd\/patch7\/n10\/avg \(sweep\.objective\) at the last evaluation, highest first/);
  assert.match(text[1], /^rank {2}trial +swd\/patch7\/n10\/avg {2}status /);
  assert.match(text[3], /^1 +000-learningRate=0\.1 +0\.3000 +finished /);
  // Without an objective the table is as before (the balance ranking, objective-less columns).
  assert.ok(summaryCsv(manifest).startsWith('rank,trial,status,'));
});
