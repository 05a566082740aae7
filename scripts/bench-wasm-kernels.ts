// Times the kernels of the lesson's 64x64 DCGAN (G 512-256-128-64, D 64-128-256-512, kernel 4, latent 100)
// on the wasm backend with this project's kernels (src/backend/wasm-kernels.ts, variant "project"), with the
// backend's own kernels (variant "builtin"), and on the cpu backend. Prints one JSON line per measurement:
// milliseconds per call as the median of --reps calls after one warm-up call, both wall-clock (ms) and
// this process's CPU time (cpuMs; the wasm backend is single-threaded in Node, so cpuMs is the better
// figure on a shared machine), and the GFLOP/s that cpuMs implies.
//
//   node --import tsx scripts/bench-wasm-kernels.ts [--batch 64] [--reps 5] [--layers D2,G4]
//        [--no-builtin] [--no-cpu] [--cpu-batch 1] [--cpu-reps 1] [--step] [--step-reps 3] [--step-builtin]
//
// The cpu backend runs at --cpu-batch (its Conv2DBackpropFilter manages about 0.01 GFLOP/s: one call of a
// middle DCGAN layer at batch 64 would take about ten minutes); its lines carry msAtBatch, the time scaled
// linearly to --batch (convolutions cost exactly batch times one image).
//
// --step times whole training steps (src/train/step.ts: D on real + fake, then G; Adam; BCE on logits) of
// the full model at --batch on wasm; --step-builtin also times them with only the missing
// Conv2DBackpropFilter registered (the backend's own Conv2DBackpropInput, Tile, Sum and Mean).
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import * as wasm from '@tensorflow/tfjs-backend-wasm';
import { registerWasmGradientKernels, unregisterWasmGradientKernels } from '../src/backend/wasm-kernels.ts';
import { lessonModel } from '../test/parity/fixtures.ts';
import { buildDiscriminator, buildGenerator } from '../src/model/build.ts';
import { makeAdam, trainStep } from '../src/train/step.ts';

const { values: opts } = parseArgs({
  options: {
    batch: { type: 'string', default: '64' },
    reps: { type: 'string', default: '5' },
    'cpu-reps': { type: 'string', default: '1' },
    'cpu-batch': { type: 'string', default: '1' },
    layers: { type: 'string' },
    'no-builtin': { type: 'boolean', default: false },
    'no-cpu': { type: 'boolean', default: false },
    step: { type: 'boolean', default: false },
    'step-reps': { type: 'string', default: '3' },
    'step-builtin': { type: 'boolean', default: false },
  },
});
const benchBatch = Number(opts.batch);
/** The batch of the layers being measured: --batch, or --cpu-batch while the cpu backend runs. */
let batch = benchBatch;
const reps = Number(opts.reps);
const cpuReps = Number(opts['cpu-reps']);
const LATENT = 100;

type Shape4 = [number, number, number, number];
/**
 * One convolution as conv2d sees it: x [N,H,W,Ci] -> y [N,H',W',Co], filter [fh,fw,Ci,Co]. For a generator
 * layer (conv2dTranspose) x is the layer's OUTPUT and y its input: its forward pass is Conv2DBackpropInput,
 * its input gradient Conv2D and its filter gradient Conv2DBackpropFilter.
 */
interface Layer {
  name: string;
  role: 'conv2d' | 'conv2dTranspose';
  x: Shape4;
  filter: Shape4;
  strides: number;
  pad: 'same' | 'valid';
}

const layersAt = (batch: number): Layer[] => [
  { name: 'D1', role: 'conv2d', x: [batch, 64, 64, 3], filter: [4, 4, 3, 64], strides: 2, pad: 'same' },
  { name: 'D2', role: 'conv2d', x: [batch, 32, 32, 64], filter: [4, 4, 64, 128], strides: 2, pad: 'same' },
  { name: 'D3', role: 'conv2d', x: [batch, 16, 16, 128], filter: [4, 4, 128, 256], strides: 2, pad: 'same' },
  { name: 'D4', role: 'conv2d', x: [batch, 8, 8, 256], filter: [4, 4, 256, 512], strides: 2, pad: 'same' },
  { name: 'D5', role: 'conv2d', x: [batch, 4, 4, 512], filter: [4, 4, 512, 1], strides: 1, pad: 'valid' },
  { name: 'G1', role: 'conv2dTranspose', x: [batch, 4, 4, 512], filter: [4, 4, 512, LATENT], strides: 1, pad: 'valid' },
  { name: 'G2', role: 'conv2dTranspose', x: [batch, 8, 8, 256], filter: [4, 4, 256, 512], strides: 2, pad: 'same' },
  { name: 'G3', role: 'conv2dTranspose', x: [batch, 16, 16, 128], filter: [4, 4, 128, 256], strides: 2, pad: 'same' },
  { name: 'G4', role: 'conv2dTranspose', x: [batch, 32, 32, 64], filter: [4, 4, 64, 128], strides: 2, pad: 'same' },
  { name: 'G5', role: 'conv2dTranspose', x: [batch, 64, 64, 3], filter: [4, 4, 3, 64], strides: 2, pad: 'same' },
];

const CONV_KERNELS = ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'] as const;
type ConvKernel = (typeof CONV_KERNELS)[number];

function outShape(l: Layer): Shape4 {
  return tf.backend_util.computeConv2DInfo(l.x, l.filter, l.strides, 1, l.pad).outShape as Shape4;
}

/** 2 x multiply-adds of the dense convolution: the same for all three kernels of a layer. */
function convFlops(l: Layer): number {
  const [n, oh, ow, co] = outShape(l);
  const [fh, fw, ci] = l.filter;
  return 2 * n * oh * ow * co * fh * fw * ci;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (v: number) => Math.round(v * 100) / 100;

/** Median wall and CPU milliseconds of `run` over `n` calls after one warm-up call. */
function time(run: () => tf.Tensor, n: number): { ms: number; cpuMs: number } {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i <= n; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const out = run();
    out.dataSync(); // wasm kernels finish before returning; this makes cpu (and any async backend) comparable
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    out.dispose();
    if (i > 0) {
      wall.push(ms);
      cpu.push((c.user + c.system) / 1000);
    }
  }
  return { ms: median(wall), cpuMs: median(cpu) };
}

function timeConv(l: Layer, kernel: ConvKernel, n: number): { ms: number; cpuMs: number } {
  const x = tf.randomNormal(l.x, 0, 1, 'float32', 1);
  const filter = tf.randomNormal(l.filter, 0, 0.02, 'float32', 2);
  const dy = tf.randomNormal(outShape(l), 0, 1, 'float32', 3);
  const attrs = { strides: l.strides, pad: l.pad, dataFormat: 'NHWC', dimRoundingMode: undefined } as Record<string, unknown>;
  const run = (): tf.Tensor => {
    switch (kernel) {
      case 'Conv2D':
        return tf.engine().runKernel(kernel, { x, filter }, { ...attrs, dilations: 1 } as tf.NamedAttrMap) as tf.Tensor;
      case 'Conv2DBackpropInput':
        return tf.engine().runKernel(kernel, { dy, filter }, { ...attrs, inputShape: l.x } as tf.NamedAttrMap) as tf.Tensor;
      case 'Conv2DBackpropFilter':
        return tf.engine().runKernel(kernel, { x, dy }, { ...attrs, filterShape: l.filter } as tf.NamedAttrMap) as tf.Tensor;
    }
  };
  try {
    return time(run, n);
  } finally {
    tf.dispose([x, filter, dy]);
  }
}

function emit(fields: Record<string, unknown>, measure: () => { ms: number; cpuMs: number }, flops?: number): void {
  try {
    const { ms, cpuMs } = measure();
    const rate = flops === undefined ? {} : { gflops: round(flops / cpuMs / 1e6) };
    const scaled =
      batch === benchBatch ? {} : { msAtBatch: round((ms * benchBatch) / batch), cpuMsAtBatch: round((cpuMs * benchBatch) / batch), atBatch: benchBatch };
    console.log(JSON.stringify({ ...fields, ms: round(ms), cpuMs: round(cpuMs), ...rate, ...scaled }));
  } catch (e) {
    console.log(JSON.stringify({ ...fields, error: (e as Error).message }));
  }
}

function benchConvs(backend: string, variant: string, kernels: readonly ConvKernel[], layers: Layer[], n: number): void {
  for (const l of layers) {
    for (const kernel of kernels) {
      const fields = {
        kind: 'kernel',
        kernel,
        backend,
        variant,
        layer: l.name,
        role: l.role,
        batch,
        x: l.x,
        filter: l.filter,
        y: outShape(l),
        strides: l.strides,
        pad: l.pad,
      };
      emit(fields, () => timeConv(l, kernel, n), convFlops(l));
    }
  }
}

/** Batch norm's reductions and its gradient's tile at the largest activation of the model ([N,32,32,64]). */
function benchBatchNormKernels(backend: string, variant: string, n: number): void {
  const shape: Shape4 = [batch, 32, 32, 64];
  const x = tf.randomNormal(shape, 0, 1, 'float32', 4);
  const row = tf.randomNormal([1, 1, 1, 64], 0, 1, 'float32', 5);
  const cases: Array<[string, () => tf.Tensor]> = [
    ['Sum', () => tf.sum(x, [0, 1, 2])],
    ['Mean', () => tf.mean(x, [0, 1, 2], true)],
    ['Tile', () => tf.tile(row, [batch, 32, 32, 1])],
  ];
  for (const [kernel, run] of cases) emit({ kind: 'kernel', kernel, backend, variant, x: kernel === 'Tile' ? [1, 1, 1, 64] : shape }, () => time(run, n));
  tf.dispose([x, row]);
}

const LESSON = lessonModel({ latentDim: LATENT });

/** Whole training steps of the lesson's model, as the trainer runs them (after one warm-up step). */
function benchSteps(variant: string, n: number): void {
  const generator = buildGenerator(LESSON, 3, 1);
  const discriminator = buildDiscriminator(LESSON, 3, 2);
  const adam = { kind: 'adam', learningRate: 0.005, beta1: 0.5, beta2: 0.999, epsilon: 1e-7 } as const;
  const optimizers = { generator: makeAdam(adam), discriminator: makeAdam(adam) };
  const real = tf.randomUniform([batch, 64, 64, 3], -1, 1, 'float32', 6) as tf.Tensor4D;
  for (let i = 0; i <= n; i++) {
    const noise = tf.randomNormal([batch, LATENT], 0, 1, 'float32', 7 + i) as tf.Tensor2D;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const m = trainStep(generator, discriminator, optimizers, real, noise);
    const lossD = m.lossD.dataSync()[0];
    const lossG = m.lossG.dataSync()[0];
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    tf.dispose([noise, m.lossD, m.lossG, m.dReal, m.dFake]);
    if (i > 0) {
      console.log(
        JSON.stringify({
          kind: 'trainStep',
          backend: tf.getBackend(),
          variant,
          batch,
          ms: round(ms),
          cpuMs: round((c.user + c.system) / 1000),
          lossD: round(lossD * 1e4) / 1e4,
          lossG: round(lossG * 1e4) / 1e4,
          numTensors: tf.memory().numTensors,
          loadavg: round(loadavg()[0]),
        }),
      );
    }
  }
  tf.dispose(real);
  optimizers.generator.dispose();
  optimizers.discriminator.dispose();
  generator.dispose();
  discriminator.dispose();
}

async function main(): Promise<void> {
  const require = createRequire(import.meta.url);
  wasm.setWasmPaths(`${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`);
  registerWasmGradientKernels();
  await tf.setBackend('wasm');
  await tf.ready();
  console.log(
    JSON.stringify({
      kind: 'env',
      node: process.version,
      wasmThreads: wasm.getThreadsCount(),
      wasmSimd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
      wasmMultithread: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
      loadavg: loadavg().map(round),
    }),
  );

  const wanted = opts.layers ? new Set(opts.layers.split(',')) : null;
  const pick = (all: Layer[]) => all.filter((l) => !wanted || wanted.has(l.name));
  const layers = pick(layersAt(batch));

  benchConvs('wasm', 'project', CONV_KERNELS, layers, reps);
  benchBatchNormKernels('wasm', 'project', reps);
  if (opts.step) benchSteps('project', Number(opts['step-reps']));

  if (!opts['no-builtin']) {
    // Conv2D is the backend's own in both variants; Conv2DBackpropFilter has no builtin.
    unregisterWasmGradientKernels();
    benchConvs('wasm', 'builtin', ['Conv2DBackpropInput'], layers, Math.min(reps, 2));
    benchBatchNormKernels('wasm', 'builtin', reps);
    if (opts['step-builtin']) {
      registerWasmGradientKernels(['Conv2DBackpropFilter']);
      benchSteps('builtin+Conv2DBackpropFilter', Math.min(Number(opts['step-reps']), 1));
    }
    unregisterWasmGradientKernels();
    registerWasmGradientKernels();
  }

  if (!opts['no-cpu']) {
    await tf.setBackend('cpu');
    batch = Number(opts['cpu-batch']);
    benchConvs('cpu', 'builtin', CONV_KERNELS, pick(layersAt(batch)), cpuReps);
    benchBatchNormKernels('cpu', 'builtin', cpuReps);
  }
}

await main();
