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
