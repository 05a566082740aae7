// Every shipped config: valid, planned trial by trial, and runnable end to end in a shortened form (1 epoch,
// 16 images, a tiny network; the geometry, data source and swept keys as shipped).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadExperiment } from '../src/config/load-experiment.ts';
import { expandSweep } from '../src/config/sweep-expand.ts';
import { fashionMnistForTests } from './support/fashion-mnist.ts';
import { onlySweepDir, readManifest, runCli, cliEnv } from './support/sweep-cli.ts';
import { PROJECT_ROOT } from './support/tiny-config.ts';

const configs = join(PROJECT_ROOT, 'configs');
/**
 * trials: what plan lists; run: the trials the shortened form runs. The ablation's 3 seeds add no coverage
 * over its 4 activations, so its run extends it with seed [0] only (4 trials, saving 8 worker processes).
 */
const SHIPPED: Record<string, { experiment: string; trials: number; run: number; narrow?: Record<string, unknown>; set?: string[] }> = {
  'pokemon.yaml': { experiment: 'pokemon-dcgan', trials: 0, run: 1 },
  // Its train.eval needs 2 x 10 images at least.
  'pokemon-stable.yaml': { experiment: 'pokemon-stable', trials: 0, run: 1, set: ['data.limit=24'] },
  'sweep-lr-batch.yaml': { experiment: 'pokemon-sweep-lr-batch', trials: 6, run: 6 },
  'ablation-activation.yaml': { experiment: 'pokemon-ablation-activation', trials: 12, run: 4, narrow: { seed: [0] } },
  'fashion-mnist.yaml': { experiment: 'fashion-mnist-dcgan', trials: 0, run: 1 },
  'fashion-mnist-categories.yaml': { experiment: 'fashion-mnist-categories', trials: 10, run: 10 },
};

const SHORT = [
  'train.epochs=1',
  'data.limit=16',
  'model.latentDim=8',
  'model.generator.baseChannels=4',
  'model.discriminator.baseChannels=4',
  'train.samples.count=4',
  'train.backend=auto',
];

test('every config in configs/ is run in its shortened form below', () => {
  assert.deepEqual(
    readdirSync(configs)
      .filter((name) => name.endsWith('.yaml'))
      .sort(),
    Object.keys(SHIPPED).sort(),
  );
});

test('the shipped configs validate and expand as documented', () => {
  const result = Object.fromEntries(Object.keys(SHIPPED).map((name) => [name, loadExperiment(join(configs, name)).config]));
  const lrBatch = expandSweep(result['sweep-lr-batch.yaml']);
  assert.deepEqual(
    lrBatch.map((t) => [t.config.train.optimizers.generator.learningRate, t.config.train.optimizers.discriminator.learningRate, t.config.data.batchSize]),
    [
      [0.0002, 0.0002, 64],
      [0.0002, 0.0002, 256],
      [0.001, 0.001, 64],
      [0.001, 0.001, 256],
      [0.005, 0.005, 64],
      [0.005, 0.005, 256],
    ],
  );
  const ablation = expandSweep(result['ablation-activation.yaml']);
  assert.deepEqual(
    [...new Set(ablation.map((t) => JSON.stringify(t.config.model.discriminator.activation)))],
    ['{"kind":"relu"}', '{"kind":"leakyRelu","alpha":0.1}', '{"kind":"leakyRelu","alpha":0.2}', '{"kind":"leakyRelu","alpha":0.3}'],
  );
  assert.deepEqual(
    ablation.map((t) => t.config.seed),
    [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2],
  );
  const { sweep: _sweep, ...base } = result['ablation-activation.yaml'];
  for (const trial of ablation) {
    // Same everything else: only the activation and the seed differ from the base.
    assert.deepEqual(
      {
        ...trial.config,
        seed: base.seed,
        model: { ...trial.config.model, discriminator: { ...trial.config.model.discriminator, activation: base.model.discriminator.activation } },
      },
      base,
    );
  }
  const fashion = result['fashion-mnist.yaml'];
  // Named datasets: nothing in a shipped config points outside the install.
  assert.deepEqual(fashion.data.source, { kind: 'fashionMnist', split: 'train' });
  assert.deepEqual(result['ablation-activation.yaml'].data.source, { kind: 'pokemonSprites', generations: ['gen8', 'gen7x'], variants: ['regular', 'shiny'] });
  assert.deepEqual([fashion.model.imageSize, fashion.model.generator.blocks, fashion.model.discriminator.blocks], [28, 2, 2]);
  const categories = expandSweep(result['fashion-mnist-categories.yaml']);
  assert.deepEqual(
    categories.map((t) => t.config.data.source.kind === 'fashionMnist' && t.config.data.source.classes),
    Array.from({ length: 10 }, (_, i) => [i]),
  );
  for (const trial of categories) assert.equal(trial.config.train.epochs, fashion.train.epochs, 'the same budget as fashion-mnist.yaml');
});

for (const [name, { experiment, trials, run: runs, narrow, set = [] }] of Object.entries(SHIPPED)) {
  test(`${name}: plan lists its trials, and a shortened form runs end to end`, async (t) => {
    const cwd = mkdtempSync(join(tmpdir(), 'dcgan-run-configs-'));
    const file = join(configs, name);
    const plan = await runCli(['plan', file], { cwd });
    assert.equal(plan.code, 0, plan.stderr);
    if (trials > 0) {
      assert.match(plan.stdout, new RegExp(`^# Sweep: grid, ${trials} trials`, 'm'));
      for (const trial of expandSweep(loadExperiment(file).config)) assert.ok(plan.stdout.includes(`  ${trial.name}: `), trial.name);
    } else {
      assert.match(plan.stdout, /^# Runs: 1 \(no sweep\)/m);
    }

    let runFile = file;
    if (narrow) {
      runFile = join(cwd, `narrow-${name}`);
      writeFileSync(runFile, stringify({ extends: file, sweep: { parameters: narrow } }));
    }
    const started = Date.now();
    const overrides = [...SHORT, ...set, `tracking.runsDir=${join(cwd, 'runs')}`, ...(trials > 0 ? ['sweep.parallel=2'] : [])];
    // Fashion-MNIST from the data cache: the full dataset where it is (CI), else the committed subset.
    const env = cliEnv((await fashionMnistForTests()).env);
    const run = await runCli(['run', runFile, '--quiet', ...overrides.flatMap((o) => ['--set', o])], { cwd, env });
    t.diagnostic(`${name}: ${runs} run${runs > 1 ? 's' : ''} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.equal(run.code, 0, `--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`);
    if (trials > 0) {
      const manifest = readManifest(onlySweepDir(join(cwd, 'runs'), experiment)!);
      assert.equal(manifest.trials.length, runs);
      assert.ok(
        manifest.trials.every((trial) => trial.status === 'finished' && trial.metrics?.epoch === 1),
        JSON.stringify(manifest.trials.map((trial) => [trial.name, trial.status, trial.error])),
      );
      assert.ok(manifest.trials.every((trial) => existsSync(join(trial.runDir!, 'samples', 'epoch-0001.png'))));
    } else {
      assert.ok(existsSync(join(cwd, 'runs', experiment)));
    }
  });
}
