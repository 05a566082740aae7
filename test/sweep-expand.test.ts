import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadExperiment } from '../src/config/load-experiment.ts';
import { ConfigError } from '../src/config/diagnostics.ts';
import { countTrials, expandSweep, sweepAssignments } from '../src/config/sweep-expand.ts';
import { trialConfigHash } from '../src/track/sweep-hash.ts';
import { trialsHash } from '../src/track/sweep-manifest.ts';
import { POKEMON_ROOT, tinyExperiment } from './support/tiny-config.ts';

const LR_G = 'train.optimizers.generator.learningRate';
const LR_D = 'train.optimizers.discriminator.learningRate';

test('a grid is the product of the lists, the last parameter varying fastest, in the order written', () => {
  const { config } = tinyExperiment({
    sweep: { parameters: { [LR_G]: [0.001, 0.002, 0.003], 'data.batchSize': [4, 8], seed: [1, 2] } },
  });
  const trials = expandSweep(config);
  assert.equal(trials.length, 12);
  assert.deepEqual(
    trials.map((t) => [t.values[LR_G], t.values['data.batchSize'], t.values.seed]),
    [0.001, 0.002, 0.003].flatMap((lr) => [4, 8].flatMap((batch) => [1, 2].map((seed) => [lr, batch, seed]))),
  );
  assert.deepEqual(
    trials.map((t) => t.index),
    [...trials.keys()],
  );
  assert.equal(trials[0].name, '000-learningRate=0.001,batchSize=4,seed=1');
  assert.equal(new Set(trials.map((t) => t.name)).size, 12, 'names are unique');
  for (const trial of trials) {
    assert.equal(trial.config.train.optimizers.generator.learningRate, trial.values[LR_G]);
    assert.equal(trial.config.data.batchSize, trial.values['data.batchSize']);
    assert.equal(trial.config.seed, trial.values.seed);
    assert.equal(trial.config.sweep, undefined, 'a trial config has no sweep');
    assert.equal(
      trial.config.train.optimizers.discriminator.learningRate,
      config.train.optimizers.discriminator.learningRate,
      'unlinked paths keep the base value',
    );
  }
});

test("linked paths take the leader's value in every trial; whole objects can be swept", () => {
  const { config } = tinyExperiment({
    sweep: {
      parameters: {
        [LR_G]: [0.0002, 0.005],
        'model.discriminator.activation': [{ kind: 'relu' }, { kind: 'leakyRelu', alpha: 0.1 }],
      },
      link: [[LR_G, LR_D]],
    },
  });
  const trials = expandSweep(config);
  assert.equal(trials.length, 4);
  for (const trial of trials) assert.equal(trial.config.train.optimizers.discriminator.learningRate, trial.values[LR_G]);
  assert.deepEqual(trials[1].config.model.discriminator.activation, { kind: 'leakyRelu', alpha: 0.1 });
  assert.equal(trials[1].name, '001-learningRate=0.0002,activation=leakyRelu-0.1');
  assert.deepEqual(Object.keys(trials[0].values), [LR_G, 'model.discriminator.activation'], 'a follower is not a swept value of its own');
  // Values are copies: changing one trial's object leaves the others and the base alone.
  (trials[1].config.model.discriminator.activation as { alpha: number }).alpha = 0.9;
  assert.deepEqual(trials[3].config.model.discriminator.activation, { kind: 'leakyRelu', alpha: 0.1 });
});

const randomSweep = {
  strategy: 'random',
  trials: 200,
  parameters: {
    [LR_G]: { distribution: 'logUniform', min: 1e-5, max: 1e-1 },
    'train.optimizers.generator.beta1': { distribution: 'uniform', min: 0.3, max: 0.7 },
    'model.latentDim': { distribution: 'intUniform', min: 4, max: 9 },
    'data.batchSize': [4, 8, 16],
  },
};

test('random draws are reproducible from the seed, different for another seed, and within their ranges', () => {
  const draws = (seed: number) => expandSweep(tinyExperiment({ seed, sweep: randomSweep }).config);
  const a = draws(3);
  assert.equal(a.length, 200);
  assert.deepEqual(
    a.map((t) => t.values),
    draws(3).map((t) => t.values),
  );
  assert.notDeepEqual(
    a.map((t) => t.values),
    draws(4).map((t) => t.values),
  );

  const lrs = a.map((t) => t.values[LR_G] as number);
  assert.ok(lrs.every((v) => v >= 1e-5 && v < 1e-1));
  // Log-uniform: about as many draws per decade (50 expected in each of the 4).
  const perDecade = [-5, -4, -3, -2].map((d) => lrs.filter((v) => v >= 10 ** d && v < 10 ** (d + 1)).length);
  assert.ok(
    perDecade.every((n) => n > 25),
    `draws per decade ${perDecade.join(', ')}`,
  );

  const betas = a.map((t) => t.values['train.optimizers.generator.beta1'] as number);
  assert.ok(betas.every((v) => v >= 0.3 && v < 0.7));
  assert.ok(Math.min(...betas) < 0.35 && Math.max(...betas) > 0.65, 'uniform covers the range');

  const dims = a.map((t) => t.values['model.latentDim'] as number);
  assert.ok(dims.every((v) => Number.isInteger(v) && v >= 4 && v <= 9));
  assert.deepEqual([...new Set(dims)].sort(), [4, 5, 6, 7, 8, 9], 'intUniform includes both ends');

  const batches = a.map((t) => t.values['data.batchSize']);
  assert.deepEqual(
    [...new Set(batches)].sort((x, y) => Number(x) - Number(y)),
    [4, 8, 16],
    'lists are sampled from',
  );
  for (const trial of a) assert.equal(trial.config.model.latentDim, trial.values['model.latentDim']);
});

test('sweepAssignments alone: intUniform over a one-value range, and the grid of one list', () => {
  const sweep = {
    strategy: 'random' as const,
    trials: 5,
    maxTrials: 1000,
    parallel: 1,
    retries: 2,
    parameters: { seed: { distribution: 'intUniform' as const, min: 3, max: 3 } },
  };
  assert.deepEqual(
    [...sweepAssignments(sweep, 0)].map((v) => v.seed),
    [3, 3, 3, 3, 3],
  );
  assert.deepEqual(
    [...sweepAssignments({ strategy: 'grid', maxTrials: 1000, parallel: 1, retries: 2, parameters: { seed: [1, 2] } }, 0)],
    [{ seed: 1 }, { seed: 2 }],
  );
});

test('relative file paths among swept values are resolved against the file that wrote them', () => {
  const { dir } = tinyExperiment();
  const sub = join(dir, 'configs');
  mkdirSync(sub);
  const file = join(sub, 'sweep.yaml');
  writeFileSync(file, stringify({ extends: '../tiny.yaml', sweep: { parameters: { 'data.source.root': ['../images-a', POKEMON_ROOT] } } }));
  const loaded = loadExperiment(file);
  const trials = expandSweep(loaded.config, loaded.composed.origins);
  assert.equal(trials[0].config.data.source.kind === 'imageFolder' && trials[0].config.data.source.root, join(dir, 'images-a'));
  assert.equal(trials[1].config.data.source.kind === 'imageFolder' && trials[1].config.data.source.root, POKEMON_ROOT);
});

test('the definition hash follows the trial configs, not key order or tracking', () => {
  const sweep = { parameters: { [LR_G]: [0.001, 0.002] } };
  const base = tinyExperiment({ sweep });
  const hash = trialsHash(expandSweep(base.config));
  assert.equal(
    trialsHash(expandSweep(tinyExperiment({ sweep }).config).map((t) => ({ ...t, config: { ...t.config, tracking: { runsDir: '/elsewhere' } } }))),
    hash,
    'tracking is not part of it',
  );
  const reordered = expandSweep(base.config).map((t) => ({ ...t, config: Object.fromEntries(Object.entries(t.config).reverse()) as typeof t.config }));
  assert.equal(trialsHash(reordered), hash, 'key order does not matter');
  assert.notEqual(trialsHash(expandSweep(tinyExperiment({ sweep }, ['train.epochs=3']).config)), hash);
  assert.notEqual(trialsHash(expandSweep(tinyExperiment({ sweep: { parameters: { [LR_G]: [0.001, 0.003] } } }).config)), hash);
  const [first] = expandSweep(base.config);
  assert.match(trialConfigHash(first.config), /^[0-9a-f]{64}$/);
});

test('a grid is counted without being made, and its trials are made one at a time', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1) as [number, ...number[]];
  const sweep = {
    strategy: 'grid' as const,
    maxTrials: 1000,
    parallel: 1,
    retries: 2,
    parameters: { seed: hundred, 'train.epochs': hundred, 'data.batchSize': hundred },
  };
  const started = performance.now();
  assert.equal(countTrials(sweep), 1_000_000);
  const first: Record<string, unknown>[] = [];
  for (const values of sweepAssignments(sweep, 0)) {
    first.push(values);
    if (first.length === 3) break;
  }
  assert.deepEqual(
    first,
    [1, 2, 3].map((batch) => ({ seed: 1, 'train.epochs': 1, 'data.batchSize': batch })),
  );
  assert.ok(performance.now() - started < 100, `${performance.now() - started} ms`);
});

test('sweep.maxTrials refuses a bigger sweep, naming the count and the key, and can be raised', () => {
  const parameters = { seed: Array.from({ length: 110 }, (_, i) => i), 'data.batchSize': Array.from({ length: 10 }, (_, i) => i + 1) };
  assert.throws(
    () => tinyExperiment({ sweep: { parameters } }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(
        error.diagnostics.map((d) => d.message),
        ['the grid makes 1,100 trials (110 x 10 values), more than sweep.maxTrials (1000): sweep fewer values, or raise sweep.maxTrials to run them all'],
      );
      return true;
    },
  );
  assert.equal(expandSweep(tinyExperiment({ sweep: { parameters, maxTrials: 1100 } }).config).length, 1100);
  assert.throws(
    () => tinyExperiment({ sweep: { strategy: 'random', trials: 1001, parameters: { seed: [1, 2] } } }),
    /sweep\.trials is 1001, more than sweep\.maxTrials \(1000\)/,
  );
});

test('values are checked together: one invalid on the base config alone is fine where every trial pairs it with a fitting value', () => {
  // 2 blocks in the base: 1 channel count fits only the 1-block generator that every trial has.
  const { config } = tinyExperiment({ sweep: { parameters: { 'model.generator.blocks': [1], 'model.generator.channels': [[4]], seed: [1, 2] } } });
  assert.deepEqual(
    expandSweep(config).map((t) => [t.config.model.generator.blocks, t.config.model.generator.channels]),
    [
      [1, [4]],
      [1, [4]],
    ],
  );
});

test("a swept kind replaces the mapping and gets the new kind's defaults", () => {
  const { config } = tinyExperiment({ sweep: { parameters: { 'model.discriminator.activation.kind': ['relu', 'elu', 'leakyRelu'] } } }, [
    'model.discriminator.activation.alpha=0.1',
  ]);
  assert.deepEqual(
    expandSweep(config).map((t) => t.config.model.discriminator.activation),
    [{ kind: 'relu' }, { kind: 'elu', alpha: 1 }, { kind: 'leakyRelu', alpha: 0.1 }],
  );
});

test('invalid combinations: each problem once, naming its first trial and counting the others; past five, a count', () => {
  // The base has 2 blocks: each channel list is invalid alone (reported at the value), and with 1 or 3 blocks.
  const channels = [4, 5, 6].map((n) => Array.from({ length: n }, () => 4));
  assert.throws(
    () => tinyExperiment({ sweep: { parameters: { 'model.generator.blocks': [1, 2, 3], 'model.generator.channels': channels, seed: [1, 2] } } }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      const messages = error.diagnostics.map((d) => d.message);
      assert.deepEqual(messages.slice(0, 5), [
        'sweep trial 0 of 18 (model.generator.blocks=1, model.generator.channels=[4,4,4,4], seed=1): model.generator.channels lists 4 values but model.generator.blocks is 1: give one channel count per block (and 1 more trial)',
        'sweep trial 2 of 18 (model.generator.blocks=1, model.generator.channels=[4,4,4,4,4], seed=1): model.generator.channels lists 5 values but model.generator.blocks is 1: give one channel count per block (and 1 more trial)',
        'sweep trial 4 of 18 (model.generator.blocks=1, model.generator.channels=[4,4,4,4,4,4], seed=1): model.generator.channels lists 6 values but model.generator.blocks is 1: give one channel count per block (and 1 more trial)',
        'sweep trial 12 of 18 (model.generator.blocks=3, model.generator.channels=[4,4,4,4], seed=1): model.generator.channels lists 4 values but model.generator.blocks is 3: give one channel count per block (and 1 more trial)',
        'sweep trial 14 of 18 (model.generator.blocks=3, model.generator.channels=[4,4,4,4,4], seed=1): model.generator.channels lists 5 values but model.generator.blocks is 3: give one channel count per block (and 1 more trial)',
      ]);
      assert.equal(messages[5], 'sweep: 2 more problems of trials not shown', 'the sixth problem, in 2 trials');
      assert.deepEqual(
        messages.slice(6).map((m) => m.split(':')[0]),
        [4, 5, 6].map((n) => `sweep value [${Array(n).fill(4).join(',')}] for model.generator.channels`),
      );
      return true;
    },
  );
});
