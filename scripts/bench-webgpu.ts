// The lesson's DCGAN training step (configs/pokemon.yaml: 64x64, latent 100, G and D with 4 blocks of 64..512
// channels, two Adams) on the webgpu backend: milliseconds per step, GPU dispatches and submits per step, and
// GPU time per kernel from tf.profile (timestamp queries, where the adapter offers 'timestamp-query').
// Prints JSON lines: one "adapter" line, then per backend and batch size one "step" line and one "kernels" line.
//
//   node --import tsx scripts/bench-webgpu.ts [--batches 64,256] [--steps 10] [--warmup 3] [--backends webgpu,tensorflow]
//   node --import tsx scripts/bench-webgpu.ts --tiny       # a 16x16 model at batches 8,16: for a CPU fallback adapter (lavapipe)
//
// The batch is synthetic (random images in [-1, 1]): the step is what is measured, not the data pipeline
// (scripts/bench.ts times whole runs). Two step times are given:
//   msPerStepSynced     each step waits for its losses to be read back (the latency of one step);
//   msPerStepPipelined  `steps` steps are queued, then one read-back (throughput, as the trainer runs between
//                       its reads every train.logEvery steps).
// Kernel times come from one more profiled step, in which tfjs submits every kernel on its own with timestamp
// queries: their sum is GPU busy time, usually well below the pipelined step time when the GPU waits on
// JavaScript. Dawn rounds timestamps unless its timestamp_quantization toggle is off, which this script does.
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { useBackend, type BackendName } from '../src/backend/select.ts';
import { registerWebgpu } from '../src/backend/webgpu.ts';
import type { Model } from '../src/config/experiment.generated.ts';
import { loadExperiment } from '../src/config/load-experiment.ts';
import { buildDiscriminator, buildGenerator } from '../src/model/build.ts';
import { Rng } from '../src/random/rng.ts';
import { makeAdam, trainStep } from '../src/train/step.ts';

const { values } = parseArgs({
  options: {
    config: { type: 'string', default: 'configs/pokemon.yaml' },
    backends: { type: 'string', default: 'webgpu' },
    batches: { type: 'string' },
    steps: { type: 'string' },
    warmup: { type: 'string' },
    tiny: { type: 'boolean', default: false },
    'no-profile': { type: 'boolean', default: false },
    'top-kernels': { type: 'string', default: '25' },
  },
});
const tiny = values.tiny;
const batches = (values.batches ?? (tiny ? '8,16' : '64,256')).split(',').map(Number);
const steps = Number(values.steps ?? (tiny ? 3 : 10));
const warmup = Number(values.warmup ?? (tiny ? 1 : 3));
const backends = values.backends.split(',') as BackendName[];
const topKernels = Number(values['top-kernels']);

const emit = (record: Record<string, unknown>) => console.log(JSON.stringify(record));

const { config } = loadExperiment(values.config, []);
const model: Model = tiny
  ? {
      ...config.model,
      imageSize: 16,
      latentDim: 8,
      generator: { ...config.model.generator, blocks: 2, baseChannels: 8 },
      discriminator: { ...config.model.discriminator, blocks: 2, baseChannels: 8 },
    }
  : config.model;
const size = model.imageSize;

if (backends.includes('webgpu')) {
  const adapter = await registerWebgpu({ dawn: ['disable-dawn-features=timestamp_quantization'] });
  emit({ type: 'adapter', ...adapter, tfjs: tf.version.tfjs, node: process.versions.node });
  if (adapter.fallback && !tiny) {
    process.stderr.write(`bench-webgpu: ${adapter.summary}: the lesson's model takes minutes per step here; use --tiny\n`);
  }
}

interface Counters {
  dispatches: number;
  submits: number;
  uploads: number;
}

/** Counts the webgpu backend's compute dispatches, queue submits and CPU-to-GPU uploads (by wrapping its methods). */
function instrument(backend: tf.KernelBackend): Counters {
  const counters: Counters = { dispatches: 0, submits: 0, uploads: 0 };
  const b = backend as unknown as Record<string, (...args: unknown[]) => unknown> & {
    tensorMap: { get(id: unknown): { resource?: unknown; values?: unknown } };
  };
  const wrap = (method: string, count: (...args: unknown[]) => void) => {
    const original = b[method];
    if (typeof original !== 'function') return;
    b[method] = function (this: unknown, ...args: unknown[]) {
      count(...args);
      return original.apply(this, args);
    };
  };
  wrap('recordAndSubmit', () => counters.dispatches++);
  wrap('submitQueue', () => counters.submits++);
  wrap('uploadToGPU', (dataId) => {
    const data = b.tensorMap.get(dataId);
    if (data.resource == null && data.values != null) counters.uploads++;
  });
  return counters;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(backend: BackendName, batch: number): Promise<void> {
  await useBackend(backend);
  const counters = backend === 'webgpu' ? instrument(tf.engine().backend) : undefined;
  const generator = buildGenerator(model, 3, config.seed);
  const discriminator = buildDiscriminator(model, 3, config.seed);
  const optimizers = { generator: makeAdam(config.train.optimizers.generator), discriminator: makeAdam(config.train.optimizers.discriminator) };
  const rng = new Rng(config.seed);
  const real = tf.tensor4d(rng.normals(batch * size * size * 3).map(Math.tanh), [batch, size, size, 3]);
  const noise = tf.tensor2d(rng.normals(batch * model.latentDim), [batch, model.latentDim]);
  const readLosses = async (m: ReturnType<typeof trainStep>) => {
    const out = await Promise.all([m.lossD, m.lossG].map(async (s) => (await s.data())[0]));
    tf.dispose(Object.values(m));
    return out;
  };
  try {
    // Warm-up: shader compilation and buffer pools fill here.
    const warmupMs: number[] = [];
    for (let i = 0; i < warmup; i++) {
      const t0 = performance.now();
      await readLosses(trainStep(generator, discriminator, optimizers, real, noise));
      warmupMs.push(performance.now() - t0);
    }

    // Latency: each step read back before the next.
    const synced: number[] = [];
    const before = counters && { ...counters };
    let losses: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      losses = await readLosses(trainStep(generator, discriminator, optimizers, real, noise));
      synced.push(performance.now() - t0);
    }
    const perStep = counters &&
      before && {
        dispatchesPerStep: (counters.dispatches - before.dispatches) / steps,
        submitsPerStep: (counters.submits - before.submits) / steps,
        uploadsPerStep: (counters.uploads - before.uploads) / steps,
      };

    // Throughput: queue every step, read the last one (and keep the others' scalars until then, as the trainer does).
    const t0 = performance.now();
    const pending: ReturnType<typeof trainStep>[] = [];
    for (let i = 0; i < steps; i++) pending.push(trainStep(generator, discriminator, optimizers, real, noise));
    const queuedMs = performance.now() - t0;
    await Promise.all(pending.map(readLosses));
    const pipelinedMs = (performance.now() - t0) / steps;

    const memory = tf.memory() as tf.MemoryInfo & { numBytesInGPUAllocated?: number };
    emit({
      type: 'step',
      backend,
      batch,
      imageSize: size,
      tiny,
      steps,
      warmupMs: warmupMs.map((ms) => Math.round(ms)),
      msPerStepSynced: median(synced),
      msPerStepSyncedMin: Math.min(...synced),
      msPerStepPipelined: pipelinedMs,
      msToQueueAllSteps: queuedMs,
      imagesPerSec: (batch * 1000) / pipelinedMs,
      ...perStep,
      losses,
      liveTensors: memory.numTensors,
      gpuBytesAllocated: memory.numBytesInGPUAllocated,
      rssMB: Math.round(process.memoryUsage().rss / 2 ** 20),
    });

    if (!values['no-profile']) {
      const profile = await tf.profile(() => Object.values(trainStep(generator, discriminator, optimizers, real, noise)));
      tf.dispose(profile.result as tf.Tensor[]);
      const byKernel = new Map<string, { calls: number; ms: number; programs: Map<string, number> }>();
      for (const k of profile.kernels) {
        if (!tf.getKernel(k.name, backend)) continue; // op scopes such as fusedConv2d__op
        const entry = byKernel.get(k.name) ?? { calls: 0, ms: 0, programs: new Map() };
        const ms = Number(k.kernelTimeMs) || 0;
        entry.calls++;
        entry.ms += ms;
        // webgpu: "Conv2DMMProgram: 0.12, ..." per program the kernel ran.
        for (const part of String(k.extraInfo ?? '').split(', ')) {
          const m = /^(\w+): ([\d.e+-]+)$/.exec(part);
          if (m) entry.programs.set(m[1], (entry.programs.get(m[1]) ?? 0) + Number(m[2]));
        }
        byKernel.set(k.name, entry);
      }
      const total = [...byKernel.values()].reduce((s, e) => s + e.ms, 0);
      const kernels = [...byKernel]
        .sort((a, b) => b[1].ms - a[1].ms)
        .slice(0, topKernels)
        .map(([name, e]) => ({
          name,
          calls: e.calls,
          ms: Number(e.ms.toFixed(4)),
          share: Number((e.ms / Math.max(total, 1e-12)).toFixed(4)),
          ...(e.programs.size ? { programs: Object.fromEntries([...e.programs].map(([p, ms]) => [p, Number(ms.toFixed(4))])) } : {}),
        }));
      emit({
        type: 'kernels',
        backend,
        batch,
        timing:
          backend === 'webgpu'
            ? (tf.engine().backend as unknown as { supportTimestampQuery?: boolean }).supportTimestampQuery
              ? 'gpu timestamps'
              : 'none (no timestamp-query)'
            : 'wall clock per kernel',
        kernelCalls: profile.kernels.filter((k) => tf.getKernel(k.name, backend)).length,
        totalMs: Number(total.toFixed(3)),
        kernels,
      });
    }
  } finally {
    tf.dispose([real, noise]);
    optimizers.generator.dispose();
    optimizers.discriminator.dispose();
    generator.dispose();
    discriminator.dispose();
  }
}

for (const backend of backends) {
  for (const batch of batches) {
    try {
      await measure(backend, batch);
    } catch (error) {
      emit({ type: 'error', backend, batch, error: (error as Error).message.split('\n')[0] });
    }
  }
}
