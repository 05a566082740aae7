// Training-speed benchmark: an experiment config's model through the real data pipeline and training loop,
// per backend and batch size, against PyTorch's step of the same model measured in the same run; with
// --options, also the step with each stable-GAN option on. Prints JSON lines, then a table.
//
//   npm run bench [-- --config configs/pokemon.yaml --config configs/fashion-mnist.yaml --set key=value
//                     --backends tensorflow,wasm --batches 16,64,256 --steps 5 --warmup 2 --options all]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import type { Adam, Data, Experiment } from '../src/config/experiment.generated.ts';
import { loadExperiment } from '../src/config/load-experiment.ts';
import { availableBackends } from '../src/backend/select.ts';
import { wasmThreads } from '../src/backend/wasm-threads.ts';
import { isHardwareWebgpu } from '../src/backend/webgpu.ts';
import { sourceRoots } from '../src/data/image-folder.ts';
import { outputShape } from '../src/plan/data-shape.ts';
import { discriminatorChannels, generatorChannels, startSize } from '../src/plan/geometry.ts';
import type { Progress } from '../src/train/progress.ts';
import { train } from '../src/train/trainer.ts';

const root = join(import.meta.dirname, '..');
// The project's cache, wherever the benchmark is started from.
process.env.DCGAN_RUN_CACHE ??= join(root, '.cache');
const { values } = parseArgs({
  options: {
    config: { type: 'string', multiple: true, default: ['configs/pokemon.yaml'] },
    set: { type: 'string', multiple: true, default: [] },
    options: { type: 'string' },
    backends: { type: 'string' },
    batches: { type: 'string', default: '16,64,256' },
    steps: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    child: { type: 'string' },
    python: { type: 'string', default: process.env.BENCH_PYTHON ?? '/usr/bin/python3' },
  },
});
const steps = Number(values.steps);
const warmup = Number(values.warmup);
// A step is timed from the previous step's end, so the first step of a run is never timed.
if (!Number.isInteger(steps) || steps < 1 || !Number.isInteger(warmup) || warmup < 1) {
  process.stderr.write(`--steps must be an integer >= 1 and --warmup >= 1 (the first step is not timed), not ${values.steps} and ${values.warmup}\n`);
  process.exit(2);
}

/**
 * --options: each stable-GAN option alone on the config, set by its schema keys. Spectral norm goes without D's
 * batch norm, as SN-GAN uses it.
 */
const OPTIONS: Record<string, string[]> = {
  spectralNorm: ['model.discriminator.spectralNorm=true', 'model.discriminator.batchNorm=false'],
  hinge: ['train.loss=hinge'],
  diffAugment: ['train.augment={policy: [color, translation, cutout]}'],
  r1: ['train.r1=10'],
  'wgan-gp': ['train.loss=wgan-gp'],
  ema: ['train.ema={beta: 0.999}'],
  upsample: ['model.generator.upsample=nearest'],
};

interface Figure {
  impl: string;
  batch: number;
  secondsPerStep: number;
  imagesPerSec: number;
  [key: string]: unknown;
}

/** The step as configured, or with one option on: its name in the rows, and the config overrides that make it. */
interface Variant {
  option: string;
  overrides: string[];
}

const emit = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);

/** One backend and batch size in this process: the config, shortened to warmup + steps batches. */
async function measure(file: string, overrides: string[], backend: string, batch: number): Promise<Figure> {
  const { config } = loadExperiment(file, [
    ...overrides,
    `train.backend=${backend}`,
    `data.batchSize=${batch}`,
    `data.limit=${batch * (warmup + steps)}`,
    'train.epochs=1',
    // Losses read back every step: the live-tensor count is then comparable step to step (tfjs-node runs
    // kernels synchronously, so the read costs no pipelining).
    'train.logEvery=1',
    `tracking.runsDir=${join(root, '.cache/bench-runs')}`,
  ]);
  const stamps: number[] = [];
  const tensors: number[] = [];
  const progress: Progress = {
    startEpoch() {},
    endEpoch() {},
    log() {},
    step() {
      stamps.push(performance.now());
      tensors.push(tf.memory().numTensors);
    },
  };
  const started = performance.now();
  await train(config, { configFile: relative(root, file), progress });
  // A step's time runs from the previous step's end, the data pipeline and the loss read-back included.
  const durations = stamps.slice(warmup).map((t, i) => (t - stamps[warmup + i - 1]) / 1000);
  const secondsPerStep = durations.sort((a, b) => a - b)[Math.floor(durations.length / 2)];
  return {
    impl: `tfjs-${backend}`,
    batch,
    steps,
    secondsPerStep,
    imagesPerSec: batch / secondsPerStep,
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    liveTensorsPerStep: [...new Set(tensors.slice(1))],
    ...(backend === 'wasm' ? { wasmHelperThreads: wasmThreads().helpers } : {}),
    wallSeconds: (performance.now() - started) / 1000,
  };
}

/** Runs a child that prints JSON lines; returns every figure it printed, or why it failed. */
function runChild(args: string[], command = process.execPath): Figure[] | { error: string } {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
  const lines = result.stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'));
  if (result.status !== 0 || lines.length === 0) {
    const output = (result.stderr || result.stdout).trim().split('\n');
    // The thrown error's own line where there is one, not the stack trace's tail.
    return { error: output.find((l) => /^\w*Error\b/.test(l)) ?? output.slice(-3).join(' | ') };
  }
  return lines.map((line) => JSON.parse(line) as Figure);
}

/** The files or folders a config's own data source names that do not exist: that model is skipped, saying so (named datasets are fetched). */
function missingData({ source }: Data): string[] {
  const paths = source.kind === 'idx' ? [source.images, source.labels] : source.kind === 'imageFolder' ? sourceRoots(source.root) : [];
  return paths.filter((path): path is string => path !== undefined && !existsSync(path));
}

/**
 * What scripts/bench_torch.py builds and trains (its docstring has the fields): the config's nets and step, or
 * why the lesson's PyTorch nets it builds on cannot be those nets.
 */
function torchSpec({ model, train: options, data }: Experiment): { spec: object } | { error: string } {
  const { generator: g, discriminator: d } = model;
  if (
    g.kernelSize !== 4 ||
    d.kernelSize !== 4 ||
    g.activation.kind !== 'relu' ||
    g.batchNorm === false ||
    g.output !== 'tanh' ||
    d.activation.kind !== 'leakyRelu'
  ) {
    return { error: "no PyTorch reference: bench_torch.py has the lesson's layers only (kernel 4; ReLU, batch norm and a tanh output in G; LeakyReLU in D)" };
  }
  const adam = (a: Adam) => [a.learningRate, a.beta1, a.beta2, a.epsilon];
  return {
    spec: {
      latentDim: model.latentDim,
      imageSize: model.imageSize,
      imageChannels: outputShape(data).channels,
      generator: { channels: generatorChannels(g), firstKernel: startSize(model.imageSize, g.blocks), batchNorm: g.batchNorm, upsample: g.upsample },
      discriminator: {
        channels: discriminatorChannels(d),
        finalKernel: startSize(model.imageSize, d.blocks),
        alpha: d.activation.alpha,
        spectralNorm: d.spectralNorm,
        batchNorm: d.batchNorm,
      },
      adam: { generator: adam(options.optimizers.generator), discriminator: adam(options.optimizers.discriminator) },
      loss: options.loss,
      gradientPenalty: options.gradientPenalty,
      r1: options.r1,
      augment: options.augment || null,
      ema: options.ema ? options.ema.beta : null,
    },
  };
}

/**
 * One variant of the step at one batch size: PyTorch's, each backend's, then PyTorch's again (whatever runs
 * later on this machine runs slower: it warms up, so the reference is the mean of PyTorch's detached step
 * before and after). Prints and returns the rows, with their ratios to PyTorch and to `plain`, the same
 * impl's rows without the option.
 */
function timeVariant(file: string, batch: number, backends: string[], variant: Variant, plain: Figure[] = []): Figure[] {
  const { config } = loadExperiment(file, variant.overrides);
  const label = { model: config.name, option: variant.option };
  const torch = torchSpec(config);
  const threads = String(availableParallelism());
  const runTorch = (impls: string) =>
    'error' in torch
      ? torch
      : runChild(
          [join(root, 'scripts/bench_torch.py'), JSON.stringify(torch.spec), String(batch), String(steps), String(warmup), threads, impls],
          values.python,
        );
  const before = runTorch(variant.option === 'plain' ? 'pytorch-lesson,pytorch' : 'pytorch');
  if ('error' in before) emit({ impl: 'pytorch', ...label, batch, skipped: before.error });
  let rows: Figure[] = [];
  for (const backend of backends) {
    // A backend per process: TF.js backends and their memory do not mix.
    const sets = variant.overrides.map((override) => `--set=${override}`);
    const figures = runChild([
      '--import',
      'tsx',
      join(root, 'scripts/bench.ts'),
      `--child=${backend}:${batch}`,
      `--config=${file}`,
      ...sets,
      `--steps=${steps}`,
      `--warmup=${warmup}`,
    ]);
    if ('error' in figures) emit({ impl: `tfjs-${backend}`, ...label, batch, error: figures.error });
    else rows.push(figures.at(-1)!);
  }
  if (!('error' in before)) {
    const after = runTorch('pytorch');
    const lesson = before.find((f) => f.impl === 'pytorch-lesson');
    const detached = before.find((f) => f.impl === 'pytorch')!;
    const afterSeconds = 'error' in after ? detached.secondsPerStep : after[0]!.secondsPerStep;
    const reference = { ...detached, secondsPerStep: (detached.secondsPerStep + afterSeconds) / 2, before: detached.secondsPerStep, after: afterSeconds };
    reference.imagesPerSec = batch / reference.secondsPerStep;
    // The ratio is to PyTorch's detached step: the same updates as ours, and less work than the lesson's own.
    const ours = rows.map((figure) => ({
      ...figure,
      ratioToPytorch: figure.secondsPerStep / reference.secondsPerStep,
      ...(lesson ? { ratioToPytorchLesson: figure.secondsPerStep / lesson.secondsPerStep } : {}),
    }));
    rows = [...(lesson ? [lesson] : []), reference, ...ours];
  }
  return rows.map((figure) => {
    const { impl, ...rest } = figure;
    const base = plain.find((p) => p.impl === impl);
    const row = { impl, ...label, ...rest, ...(base ? { ratioToPlain: figure.secondsPerStep / base.secondsPerStep } : {}) };
    emit(row);
    return row;
  });
}

function printTable(rows: Figure[]): void {
  const columns: [string, number, (r: Figure) => string][] = [
    ['impl', -16, (r) => r.impl],
    ['model', -21, (r) => String(r.model)],
    ['option', -13, (r) => String(r.option)],
    ['batch', 6, (r) => String(r.batch)],
    ['s/step', 10, (r) => r.secondsPerStep.toFixed(3)],
    ['images/s', 10, (r) => r.imagesPerSec.toFixed(1)],
    ['x plain', 9, (r) => (typeof r.ratioToPlain === 'number' ? r.ratioToPlain.toFixed(2) : '')],
    ['x PyTorch', 11, (r) => (typeof r.ratioToPytorch === 'number' ? r.ratioToPytorch.toFixed(2) : '')],
    ['peak RSS', 10, (r) => (r.peakRssMB ? `${r.peakRssMB} MB` : '')],
  ];
  // A negative width pads on the right: the text columns.
  const line = (cells: string[]) => cells.map((cell, i) => (columns[i]![1] < 0 ? cell.padEnd(-columns[i]![1]) : cell.padStart(columns[i]![1]))).join('');
  process.stdout.write(`\n${line(columns.map(([name]) => name))}\n`);
  for (const r of rows) process.stdout.write(`${line(columns.map(([, , cell]) => cell(r)))}\n`);
}

if (values.child) {
  const [backend, batch] = values.child.split(':');
  emit(await measure(values.config[0]!, values.set, backend, Number(batch)));
} else {
  const options = values.options === undefined ? [] : values.options === 'all' ? Object.keys(OPTIONS) : values.options.split(',');
  const unknown = options.filter((option) => !(option in OPTIONS));
  if (unknown.length > 0) {
    process.stderr.write(`--options: no option ${unknown.join(', ')}; there are ${Object.keys(OPTIONS).join(', ')} (or all)\n`);
    process.exit(2);
  }
  // By default the backends worth timing: not cpu (minutes per step), not webgpu on a CPU fallback adapter.
  const hardwareGpu = await isHardwareWebgpu().catch(() => false);
  const backends = values.backends ? values.backends.split(',') : (await availableBackends()).filter((b) => b !== 'cpu' && (b !== 'webgpu' || hardwareGpu));
  const batches = values.batches.split(',').map(Number);
  const rows: Figure[] = [];
  const skipped: string[] = [];
  for (const given of values.config) {
    const file = resolve(given);
    const { config } = loadExperiment(file, values.set);
    const missing = missingData(config.data);
    if (missing.length > 0) {
      const note = `${config.name} (${given}) skipped: its data is missing: ${missing.join(', ')}`;
      process.stderr.write(`${note}\n`);
      emit({ model: config.name, skipped: note });
      skipped.push(note);
      continue;
    }
    for (const batch of batches) {
      const plain = timeVariant(file, batch, backends, { option: 'plain', overrides: values.set });
      rows.push(...plain);
      for (const option of options) rows.push(...timeVariant(file, batch, backends, { option, overrides: [...values.set, ...OPTIONS[option]!] }, plain));
    }
  }
  printTable(rows);
  for (const note of skipped) process.stdout.write(`${note}\n`);
}
