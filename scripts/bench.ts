// Training-speed benchmark: the lesson's model through the real data pipeline and training loop, per backend
// and batch size, against PyTorch's step measured in the same run. Prints JSON lines, then a table.
//
//   npm run bench [-- --backends tensorflow,wasm --batches 16,64,256 --steps 5 --warmup 2]
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { loadExperiment } from '../src/config/validate.ts';
import { availableBackends } from '../src/backend/select.ts';
import { wasmThreads } from '../src/backend/wasm-threads.ts';
import { isHardwareWebgpu } from '../src/backend/webgpu.ts';
import type { Progress } from '../src/train/progress.ts';
import { train } from '../src/train/trainer.ts';

const root = join(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
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

interface Figure {
  impl: string;
  batch: number;
  secondsPerStep: number;
  imagesPerSec: number;
  [key: string]: unknown;
}

/** One backend and batch size in this process: the lesson's config, shortened to warmup + steps batches. */
async function measure(backend: string, batch: number): Promise<Figure> {
  const { config } = loadExperiment(join(root, 'configs/pokemon.yaml'), [
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
  await train(config, { configFile: 'configs/pokemon.yaml', progress, cacheDir: join(root, '.cache/data') });
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
  const lines = result.stdout.trim().split('\n').filter((l) => l.startsWith('{'));
  if (result.status !== 0 || lines.length === 0) {
    const output = (result.stderr || result.stdout).trim().split('\n');
    // The thrown error's own line where there is one, not the stack trace's tail.
    return { error: output.find((l) => /^\w*Error\b/.test(l)) ?? output.slice(-3).join(' | ') };
  }
  return lines.map((line) => JSON.parse(line) as Figure);
}

if (values.child) {
  const [backend, batch] = values.child.split(':');
  process.stdout.write(`${JSON.stringify(await measure(backend, Number(batch)))}\n`);
} else {
  // By default the backends worth timing: not cpu (minutes per step), not webgpu on a CPU fallback adapter.
  const hardwareGpu = await isHardwareWebgpu().catch(() => false);
  const backends = values.backends
    ? values.backends.split(',')
    : (await availableBackends()).filter((b) => b !== 'cpu' && (b !== 'webgpu' || hardwareGpu));
  const batches = values.batches.split(',').map(Number);
  const threads = availableParallelism();
  const rows: Figure[] = [];
  const torchArgs = (batch: number, impls: string) =>
    [join(root, 'scripts/bench_torch.py'), String(batch), String(steps), String(warmup), String(threads), impls];
  for (const batch of batches) {
    const before = runChild(torchArgs(batch, 'pytorch-lesson,pytorch'), values.python);
    if ('error' in before) process.stdout.write(`${JSON.stringify({ impl: 'pytorch', batch, skipped: before.error })}\n`);
    const measured: Figure[] = [];
    for (const backend of backends) {
      // A backend per process: TF.js backends and their memory do not mix.
      const figures = runChild(['--import', 'tsx', join(root, 'scripts/bench.ts'), `--child=${backend}:${batch}`, `--steps=${steps}`, `--warmup=${warmup}`]);
      if ('error' in figures) process.stdout.write(`${JSON.stringify({ impl: `tfjs-${backend}`, batch, error: figures.error })}\n`);
      else measured.push(figures.at(-1)!);
    }
    if ('error' in before) {
      rows.push(...measured);
      for (const figure of measured) process.stdout.write(`${JSON.stringify(figure)}\n`);
      continue;
    }
    // PyTorch again after ours: whatever runs later on this machine runs slower (it warms up), so the
    // reference is the mean of PyTorch's detached step before and after.
    const after = runChild(torchArgs(batch, 'pytorch'), values.python);
    const lesson = before.find((f) => f.impl === 'pytorch-lesson')!;
    const detached = before.find((f) => f.impl === 'pytorch')!;
    const afterSeconds = 'error' in after ? detached.secondsPerStep : after[0]!.secondsPerStep;
    const reference = { ...detached, secondsPerStep: (detached.secondsPerStep + afterSeconds) / 2, before: detached.secondsPerStep, after: afterSeconds };
    reference.imagesPerSec = batch / reference.secondsPerStep;
    rows.push(lesson, reference);
    for (const figure of [lesson, reference]) process.stdout.write(`${JSON.stringify(figure)}\n`);
    for (const figure of measured) {
      // The ratio is to PyTorch's detached step: the same updates as ours, and less work than the lesson's own.
      const withRatio = {
        ...figure,
        ratioToPytorch: figure.secondsPerStep / reference.secondsPerStep,
        ratioToPytorchLesson: figure.secondsPerStep / lesson.secondsPerStep,
      };
      rows.push(withRatio);
      process.stdout.write(`${JSON.stringify(withRatio)}\n`);
    }
  }
  process.stdout.write(`\n${'impl'.padEnd(16)}${'batch'.padStart(6)}${'s/step'.padStart(10)}${'images/s'.padStart(10)}${'x PyTorch'.padStart(11)}${'peak RSS'.padStart(10)}\n`);
  for (const r of rows) {
    const ratio = typeof r.ratioToPytorch === 'number' ? r.ratioToPytorch.toFixed(2) : '';
    const rss = r.peakRssMB ? `${r.peakRssMB} MB` : '';
    process.stdout.write(`${r.impl.padEnd(16)}${String(r.batch).padStart(6)}${r.secondsPerStep.toFixed(3).padStart(10)}${r.imagesPerSec.toFixed(1).padStart(10)}${ratio.padStart(11)}${rss.padStart(10)}\n`);
  }
}
