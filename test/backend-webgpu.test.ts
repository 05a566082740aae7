// The webgpu backend (src/backend/webgpu.ts: TF.js on Dawn's Node bindings) against the pure-JS cpu backend:
// every kernel a DCGAN step runs is registered, convolution and transposed-convolution gradients on DCGAN
// shapes, our fused kernels (src/backend/webgpu-kernels.ts: batch norm, the loss, Adam, activation gradients,
// the matrix-product convolution gradients) and that they run, a whole tiny training run through the trainer,
// tensor and GPU-buffer leaks over steps, and that a process that trained on webgpu exits on its own. Error messages for a missing package or Vulkan driver are
// checked in child processes.
//
// Without the npm packages or a Vulkan adapter the tests that need one are skipped, with the reason; on
// Debian 12 without a GPU, scripts/setup-lavapipe.sh installs Mesa 25's lavapipe (a CPU "fallback" adapter:
// slow, fine for these tiny shapes).
//
// "Relative error" is max |actual - expected| / max |expected| over a tensor, as in backend-wasm.test.ts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { availableBackends, useBackend } from '../src/backend/select.ts';
import { describeWebgpu, registerWebgpu, type WebgpuAdapter } from '../src/backend/webgpu.ts';
import { buildDiscriminator, buildGenerator } from '../src/model/build.ts';
import { FusedBatchNorm } from '../src/model/layers.ts';
import type { Progress } from '../src/train/progress.ts';
import { makeAdam, trainStep } from '../src/train/step.ts';
import { train } from '../src/train/trainer.ts';
import { readLossRecords } from '../src/track/run-dir.ts';
import { PROJECT_ROOT, tinyExperiment } from './support/tiny-config.ts';
import { normals, relativeError, size } from './support/numeric.ts';
import { assertAdamMatchesCpu, assertLossMatchesCpu, readAndDispose as read } from './support/backend-parity.ts';
import { LESSON_ADAM, tinyModel } from './parity/fixtures.ts';
import { assertBatchNormMatchesCpu, assertGradientsMatchCpu, assertStepMatchesCpu, BATCH_NORM_CASES } from './support/backend-parity.ts';
import { needs } from './support/requirements.ts';

let adapter: WebgpuAdapter | undefined;
let unavailable = '';
try {
  adapter = await registerWebgpu();
} catch (error) {
  unavailable = (error as Error).message;
}
/** node:test's skip option: false, or why (what is missing, and how to get it). */
const skip = needs(
  'webgpu',
  adapter
    ? false
    : `webgpu is not available here: ${unavailable}${unavailable.includes('setup-lavapipe.sh') ? '' : ' (a Vulkan driver is needed too: on Debian 12 without a GPU, sudo scripts/setup-lavapipe.sh)'}`,
);
if (skip) console.log(`# ${skip}`);

const silent: Progress = { startEpoch() {}, step() {}, endEpoch() {}, log() {} };
type Backend = 'cpu' | 'webgpu';

/** The shader keys of the webgpu programs that `run` dispatches, in order. */
async function recordPrograms(run: () => Promise<void>): Promise<string[]> {
  const backend = tf.backend() as unknown as { runWebGPUProgram: (program: { shaderKey: string }, ...rest: unknown[]) => unknown };
  const programs: string[] = [];
  const original = backend.runWebGPUProgram;
  backend.runWebGPUProgram = function (this: unknown, program, ...rest) {
    programs.push(program.shaderKey);
    return original.call(this, program, ...rest);
  };
  try {
    await run();
  } finally {
    backend.runWebGPUProgram = original;
  }
  return programs;
}

/**
 * Runs a Node child (with tsx) on `code`, an ES module; resolves with its exit code, output and timings. The
 * child is killed after `timeoutMs`, or `exitAfterMarkerMs` after it printed `marker`.
 */
function runChild(
  code: string,
  options: { env?: NodeJS.ProcessEnv; imports?: string[]; timeoutMs: number; marker?: string; exitAfterMarkerMs?: number },
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; timedOut: boolean; msAfterMarker?: number }> {
  return new Promise((resolve, reject) => {
    const args = ['--import', 'tsx', ...(options.imports ?? []).flatMap((i) => ['--import', i]), '--input-type=module', '-e', code];
    const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let markerAt: number | undefined;
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk;
      if (markerAt === undefined && options.marker && stdout.includes(options.marker)) {
        markerAt = performance.now();
        if (options.exitAfterMarkerMs !== undefined) {
          clearTimeout(timer);
          timer = setTimeout(kill, options.exitAfterMarkerMs);
        }
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const kill = () => {
      timedOut = true;
      child.kill('SIGKILL');
    };
    let timer = setTimeout(kill, options.timeoutMs);
    child.on('error', reject);
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer);
      resolve({ code: exitCode, signal, stdout, stderr, timedOut, msAfterMarker: markerAt === undefined ? undefined : performance.now() - markerAt });
    });
  });
}

const moduleUrl = (path: string) => JSON.stringify(pathToFileURL(join(PROJECT_ROOT, path)).href);

// ---------------------------------------------------------------------------------------------------------
// Loading, adapter choice, error messages

test('registerWebgpu describes the adapter, and useBackend(webgpu) takes it', { skip }, async (t) => {
  t.diagnostic(`adapter: ${adapter!.summary}; webgpu ${adapter!.versions.webgpu}, tfjs-backend-webgpu ${adapter!.versions.tfjsBackendWebgpu}`);
  assert.equal(await useBackend('webgpu'), 'webgpu');
  assert.equal(tf.getBackend(), 'webgpu');
  assert.match(describeWebgpu()!, /^webgpu on /);
  assert.ok((await availableBackends()).includes('webgpu'));
  // A fallback adapter (lavapipe) is flagged as such, and auto must not take it.
  if (/llvmpipe|lavapipe|swiftshader/i.test(`${adapter!.device} ${adapter!.description}`)) assert.equal(adapter!.fallback, true);
  const auto = await useBackend('auto');
  t.diagnostic(`auto chose ${auto}`);
  assert.equal(auto === 'webgpu', !adapter!.fallback, `auto chose ${auto} with a ${adapter!.fallback ? 'fallback' : 'hardware'} adapter`);
});

test('a missing webgpu package gives a UserError naming it, and auto still picks a backend', { timeout: 120_000 }, async () => {
  // A resolve hook that makes the package `webgpu` unresolvable, as after npm install --omit=optional.
  const dir = mkdtempSync(join(tmpdir(), 'dcgan-run-webgpu-'));
  writeFileSync(
    join(dir, 'hooks.mjs'),
    `export async function resolve(specifier, context, next) {
      if (specifier === 'webgpu') {
        const error = new Error("Cannot find package 'webgpu' imported from " + context.parentURL);
        error.code = 'ERR_MODULE_NOT_FOUND';
        throw error;
      }
      return next(specifier, context);
    }\n`,
  );
  writeFileSync(
    join(dir, 'register.mjs'),
    `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`,
  );
  const result = await runChild(
    `const { useBackend } = await import(${moduleUrl('src/backend/select.ts')});
     let message = '';
     try { await useBackend('webgpu'); } catch (error) { message = error.name + ': ' + error.message; }
     console.log(JSON.stringify({ message, auto: await useBackend('auto') }));`,
    { imports: [pathToFileURL(join(dir, 'register.mjs')).href], timeoutMs: 110_000 },
  );
  assert.equal(result.code, 0, result.stderr);
  const { message, auto } = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { message: string; auto: string };
  assert.match(
    message,
    /^UserError: train\.backend webgpu is not available \(the npm package webgpu .* is not installed: it is an optional dependency; run npm install/,
  );
  assert.notEqual(auto, 'webgpu');
});

test('no Vulkan driver gives a UserError naming it and scripts/setup-lavapipe.sh', { skip, timeout: 120_000 }, async () => {
  // The Vulkan loader reads only the drivers listed here: none that exists.
  const none = '/nonexistent/no_icd.json';
  const result = await runChild(
    `const { useBackend } = await import(${moduleUrl('src/backend/select.ts')});
     try { await useBackend('webgpu'); console.log('loaded'); } catch (error) { console.log(JSON.stringify(error.name + ': ' + error.message)); }`,
    { env: { VK_ICD_FILENAMES: none, VK_DRIVER_FILES: none }, timeoutMs: 110_000 },
  );
  assert.equal(result.code, 0, result.stderr);
  const message = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as string;
  assert.match(message, /^UserError: train\.backend webgpu is not available \(Dawn found no WebGPU adapter/);
  assert.ok(message.includes(`${none} (missing)`), message);
  assert.ok(message.includes('scripts/setup-lavapipe.sh'), message);
});

// ---------------------------------------------------------------------------------------------------------
// Kernels

const MODEL = tinyModel();
const ADAM = LESSON_ADAM;
const BATCH = 8;
const REAL = normals(BATCH * 16 * 16 * 3, 41).map(Math.tanh);
const NOISE = normals(BATCH * MODEL.latentDim, 42);

test('every kernel a DCGAN training step runs is registered for webgpu', { skip }, async (t) => {
  // The kernels are taken from a profiled step on cpu (two steps: Adam creates its slots in the first).
  await useBackend('cpu');
  const generator = buildGenerator(MODEL, 3, 7);
  const discriminator = buildDiscriminator(MODEL, 3, 8);
  const optimizers = { generator: makeAdam(ADAM), discriminator: makeAdam(ADAM) };
  const real = tf.tensor4d(REAL, [BATCH, 16, 16, 3]);
  const noise = tf.tensor2d(NOISE, [BATCH, MODEL.latentDim]);
  const kernels = new Set<string>();
  for (let i = 0; i < 2; i++) {
    const profile = await tf.profile(() => Object.values(trainStep(generator, discriminator, optimizers, real, noise)));
    tf.dispose(profile.result as tf.Tensor[]);
    // Profiles also name op scopes (e.g. fusedConv2d__op); only registered kernels matter.
    for (const k of profile.kernels) if (tf.getKernel(k.name, 'cpu')) kernels.add(k.name);
  }
  tf.dispose([real, noise]);
  optimizers.generator.dispose();
  optimizers.discriminator.dispose();
  generator.dispose();
  discriminator.dispose();
  // Rsqrt: the training-mode batch norm (src/model/layers.ts).
  for (const name of ['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'Rsqrt']) assert.ok(kernels.has(name), `the profile has no ${name}`);
  const missing = [...kernels].filter((name) => !tf.getKernel(name, 'webgpu'));
  t.diagnostic(`${kernels.size} kernels: ${[...kernels].sort().join(', ')}`);
  assert.deepEqual(missing, [], `kernels with no webgpu implementation: ${missing.join(', ')}`);
});

type Shape4 = [number, number, number, number];

interface ConvCase {
  name: string;
  kind: 'conv2d' | 'conv2dTranspose';
  /** conv2d: its input; conv2dTranspose: its input too (the small side). */
  x: Shape4;
  /** [fh, fw, in, out] for conv2d; [fh, fw, out, in] for conv2dTranspose, as tfjs takes them. */
  filter: Shape4;
  /** conv2dTranspose's output shape. */
  outShape?: Shape4;
  strides: number;
  pad: 'same' | 'valid';
}

/** The layers of a 32x32 DCGAN at batch 8: every geometry the lesson's 64x64 model has, smaller. */
const CONVS: ConvCase[] = [
  { name: "D's first conv k4 s2 same [8,32,32,3] -> [8,16,16,16]", kind: 'conv2d', x: [8, 32, 32, 3], filter: [4, 4, 3, 16], strides: 2, pad: 'same' },
  { name: "D's conv k4 s2 same [8,16,16,16] -> [8,8,8,32]", kind: 'conv2d', x: [8, 16, 16, 16], filter: [4, 4, 16, 32], strides: 2, pad: 'same' },
  { name: "D's last conv k4 s1 valid [8,4,4,64] -> [8,1,1,1]", kind: 'conv2d', x: [8, 4, 4, 64], filter: [4, 4, 64, 1], strides: 1, pad: 'valid' },
  {
    name: "G's first convT k4 s1 valid [8,1,1,16] -> [8,4,4,64]",
    kind: 'conv2dTranspose',
    x: [8, 1, 1, 16],
    filter: [4, 4, 64, 16],
    outShape: [8, 4, 4, 64],
    strides: 1,
    pad: 'valid',
  },
  {
    name: "G's convT k4 s2 same [8,4,4,64] -> [8,8,8,32]",
    kind: 'conv2dTranspose',
    x: [8, 4, 4, 64],
    filter: [4, 4, 32, 64],
    outShape: [8, 8, 8, 32],
    strides: 2,
    pad: 'same',
  },
  {
    name: "G's output convT k4 s2 same [8,16,16,16] -> [8,32,32,3]",
    kind: 'conv2dTranspose',
    x: [8, 16, 16, 16],
    filter: [4, 4, 3, 16],
    outShape: [8, 32, 32, 3],
    strides: 2,
    pad: 'same',
  },
];
const GRADIENT_TOLERANCE = 2e-5;

CONVS.forEach((c, i) => {
  test(`${c.kind} and its gradients on webgpu match cpu: ${c.name}`, { skip }, async (t) => {
    const x = normals(size(c.x), 500 + i);
    const w = normals(size(c.filter), 600 + i, 0.02);
    const run = async (backend: Backend) => {
      await useBackend(backend);
      const xt = tf.tensor4d(x, c.x);
      const wt = tf.tensor4d(w, c.filter);
      const f = (a: tf.Tensor4D, b: tf.Tensor4D) =>
        c.kind === 'conv2d' ? tf.conv2d(a, b, c.strides, c.pad) : tf.conv2dTranspose(a, b, c.outShape!, c.strides, c.pad);
      const y = f(xt, wt);
      const dy = tf.tensor4d(normals(size(y.shape), 700 + i), y.shape as Shape4);
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => f(a as tf.Tensor4D, b as tf.Tensor4D))([xt, wt], dy);
      const out = await read([y, dx, dw]);
      tf.dispose([xt, wt, dy]);
      return out;
    };
    const expected = await run('cpu');
    const actual = await run('webgpu');
    const errors = ['y', 'dx', 'dw'].map((name, k) => [name, relativeError(actual[k], expected[k])] as const);
    t.diagnostic(errors.map(([name, e]) => `${name} ${e.toExponential(2)}`).join(', '));
    for (const [name, e] of errors) assert.ok(e <= GRADIENT_TOLERANCE, `${name}: relative error ${e.toExponential(2)} > ${GRADIENT_TOLERANCE}`);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Training

test('a DCGAN training step on webgpu matches cpu: losses and every updated weight (fused Adam and activation gradients)', { skip }, async (t) => {
  t.diagnostic(await assertStepMatchesCpu('webgpu', 1e-4));
});

test('gradients of both DCGAN losses on webgpu match cpu', { skip }, async (t) => {
  t.diagnostic(await assertGradientsMatchCpu('webgpu', 1e-4));
});

test('a step on webgpu runs the fused kernels: Adam, activation gradients, batch norm, moving statistics and the loss', { skip }, async () => {
  await useBackend('webgpu');
  const generator = buildGenerator(tinyModel(), 3, 7);
  const discriminator = buildDiscriminator(tinyModel(), 3, 8);
  const optimizers = { generator: makeAdam(LESSON_ADAM), discriminator: makeAdam(LESSON_ADAM) };
  const real = tf.tensor4d(normals(4 * 16 * 16 * 3, 61).map(Math.tanh), [4, 16, 16, 3]);
  const noise = tf.tensor2d(normals(4 * tinyModel().latentDim, 62), [4, tinyModel().latentDim]);
  const profile = await tf.profile(async () => {
    const m = trainStep(generator, discriminator, optimizers, real, noise);
    await read([m.lossD, m.lossG, m.dReal, m.dFake]);
  });
  const calls = (name: string) => profile.kernels.filter((k) => k.name === name).length;
  const variables = generator.trainableWeights.length + discriminator.trainableWeights.length;
  assert.equal(calls('dcgan/AdamMoment'), 2 * variables);
  assert.equal(calls('dcgan/AdamUpdate'), variables);
  assert.ok(calls('dcgan/ReluGrad') > 0 && calls('dcgan/LeakyReluGrad') > 0);
  // Two moving statistics per batch-norm call; three losses (D on real and fake, G), each with its gradient.
  assert.equal(calls('dcgan/MovingAverage'), 2 * calls('dcgan/FusedBatchNormTraining'));
  assert.equal(calls('dcgan/SigmoidCrossEntropyMean'), 3);
  assert.equal(calls('dcgan/SigmoidCrossEntropyMeanGrad'), 3);
  // tfjs-core's Adam (Sqrt per variable), activation gradients (Greater / Select for LeakyReLU), batch norm
  // (moments' Transpose and Mean) and loss (Log1p, Abs) are gone.
  for (const name of ['Sqrt', 'Select', 'Greater', 'Transpose', 'Log1p', 'Abs']) assert.equal(calls(name), 0, `${name} still runs`);
  tf.dispose([real, noise]);
  optimizers.generator.dispose();
  optimizers.discriminator.dispose();
  generator.dispose();
  discriminator.dispose();
});

for (const c of BATCH_NORM_CASES) {
  test(`batch norm in training mode on webgpu (channel-sum programs) matches cpu: ${c.name}`, { skip }, async (t) => {
    t.diagnostic(await assertBatchNormMatchesCpu('webgpu', c, GRADIENT_TOLERANCE));
  });
}

test('batch norm on webgpu is 3 dispatches forward and 3 backward, with no transpose or moments', { skip }, async () => {
  await useBackend('webgpu');
  const x = tf.tensor4d(normals(2 * 4 * 4 * 3, 63), [2, 4, 4, 3]);
  const layer = new FusedBatchNorm({});
  layer.build(x.shape);
  let profile!: Awaited<ReturnType<typeof tf.profile>>;
  const programs = await recordPrograms(async () => {
    profile = await tf.profile(async () => {
      const dx = tf.grad((input: tf.Tensor) => tf.sum(layer.apply(input, { training: true }) as tf.Tensor))(x);
      await dx.data();
      dx.dispose();
    });
  });
  const kernels = profile.kernels.map((k) => k.name);
  assert.equal(kernels.filter((k) => k === 'dcgan/FusedBatchNormTraining').length, 1);
  assert.equal(kernels.filter((k) => k === 'dcgan/FusedBatchNormTrainingGrad').length, 1);
  for (const name of ['Mean', 'Transpose', 'Rsqrt']) assert.ok(!kernels.includes(name), `${name} still runs: ${kernels.join(' ')}`);
  const batchNormPrograms = programs.filter((key) => key.startsWith('dcgan_bn'));
  assert.deepEqual(batchNormPrograms, ['dcgan_bnMean', 'dcgan_bnVariance', 'dcgan_bnNormalize', 'dcgan_bnSumDy', 'dcgan_bnSumDyXhat', 'dcgan_bnInputGradient']);
  tf.dispose(x);
  for (const weight of layer.weights) weight.dispose();
});

test("the fused loss on webgpu matches tfjs-core's sigmoid cross-entropy on cpu, value and gradient, large logits included", { skip }, async () => {
  await assertLossMatchesCpu('webgpu', 1e-6);
});

test('convolution gradients on webgpu run as matrix products: im2col + matmul for filters, the tiled program for inputs', { skip }, async () => {
  await useBackend('webgpu');
  const programs = await recordPrograms(async () => {
    const x = tf.tensor4d(normals(2 * 8 * 8 * 3, 65), [2, 8, 8, 3]);
    const dy = tf.tensor4d(normals(2 * 4 * 4 * 5, 66), [2, 4, 4, 5]);
    const filter = tf.tensor4d(normals(4 * 4 * 3 * 5, 67), [4, 4, 3, 5]);
    await read([
      tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape: [4, 4, 3, 5] }) as tf.Tensor,
      tf.conv2dTranspose(dy, filter, [2, 8, 8, 3], 2, 'same'),
    ]);
    tf.dispose([x, dy, filter]);
  });
  assert.ok(programs.includes('dcgan_im2col'), programs.join(' '));
  assert.ok(
    programs.some((key) => /^matMul/i.test(key)),
    programs.join(' '),
  );
  assert.ok(
    programs.some((key) => key.startsWith('conv2DDerInputMM')),
    programs.join(' '),
  );
  assert.ok(!programs.some((key) => key.startsWith('conv2DDerInput_') || key.startsWith('conv2DDerFilter')), programs.join(' '));
});

test("BiasCorrectedAdam on webgpu (fused kernels) gives its cpu path's values and tf.train.adam's saved state, across a resume", { skip }, async () => {
  await assertAdamMatchesCpu('webgpu', 1e-5);
});

test("a tiny training run on webgpu gives the cpu backend's losses (1 epoch, within 1e-4)", { skip }, async (t) => {
  const losses: Record<string, number[][]> = {};
  for (const name of ['webgpu', 'cpu']) {
    const { config, file } = tinyExperiment({}, [`train.backend=${name}`, 'train.epochs=1']);
    const { runDir, summary } = await train(config, { configFile: file, progress: silent });
    assert.equal(summary.status, 'finished');
    assert.equal(summary.backend, name);
    losses[name] = readLossRecords(runDir).map((m) => [m.lossD, m.lossG, m.dReal, m.dFake]);
  }
  assert.equal(losses.webgpu.length, losses.cpu.length);
  const worst = Math.max(...losses.webgpu.flatMap((row, i) => row.map((v, j) => Math.abs(v - losses.cpu[i][j]) / Math.max(Math.abs(losses.cpu[i][j]), 1e-6))));
  t.diagnostic(`${losses.cpu.length} metric rows; worst relative difference ${worst.toExponential(2)}`);
  assert.ok(worst < 1e-4, `worst relative difference ${worst}`);
});

test('training steps on webgpu leak no tensors, data ids or GPU buffers', { skip }, async (t) => {
  await useBackend('webgpu');
  const generator = buildGenerator(MODEL, 3, 7);
  const discriminator = buildDiscriminator(MODEL, 3, 8);
  const optimizers = { generator: makeAdam(ADAM), discriminator: makeAdam(ADAM) };
  const real = tf.tensor4d(REAL, [BATCH, 16, 16, 3]);
  const noise = tf.tensor2d(NOISE, [BATCH, MODEL.latentDim]);
  const counts: { tensors: number; dataIds: number; gpuBytes: number }[] = [];
  try {
    for (let i = 0; i < 5; i++) {
      const m = trainStep(generator, discriminator, optimizers, real, noise);
      const values = await read([m.lossD, m.lossG, m.dReal, m.dFake]);
      assert.ok(
        values.every((v) => Number.isFinite(v[0])),
        `non-finite metrics at step ${i + 1}`,
      );
      const memory = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
      counts.push({ tensors: memory.numTensors, dataIds: tf.engine().backend.numDataIds(), gpuBytes: memory.numBytesInGPU ?? -1 });
    }
  } finally {
    tf.dispose([real, noise]);
    optimizers.generator.dispose();
    optimizers.discriminator.dispose();
    generator.dispose();
    discriminator.dispose();
  }
  t.diagnostic(`per step: ${counts.map((c) => `${c.tensors} tensors, ${c.dataIds} data ids, ${c.gpuBytes} GPU bytes`).join('; ')}`);
  // Step 1 creates Adam's moment slots; from then on nothing may grow.
  for (const key of ['tensors', 'dataIds', 'gpuBytes'] as const) {
    assert.deepEqual(
      counts.slice(1).map((c) => c[key]),
      Array(4).fill(counts[1][key]),
      `${key} per step: ${counts.map((c) => c[key])}`,
    );
  }
});

test('a process that trained on webgpu exits on its own', { skip, timeout: 300_000 }, async (t) => {
  const result = await runChild(
    `const { join } = await import('node:path');
     const { train } = await import(${moduleUrl('src/train/trainer.ts')});
     const { tinyExperiment } = await import(${moduleUrl('test/support/tiny-config.ts')});
     const { config, file, dir } = tinyExperiment({}, ['train.backend=webgpu', 'train.epochs=1']);
     const silent = { startEpoch() {}, step() {}, endEpoch() {}, log() {} };
     const { summary } = await train(config, { configFile: file, progress: silent });
     console.log('TRAINED ' + summary.backend + ' ' + summary.steps);`,
    { timeoutMs: 280_000, marker: 'TRAINED', exitAfterMarkerMs: 30_000 },
  );
  assert.ok(result.stdout.includes('TRAINED webgpu 3'), `the child did not train: ${result.stdout}\n${result.stderr}`);
  assert.ok(!result.timedOut, 'the child did not exit within 30 s of finishing its training');
  assert.equal(result.code, 0, result.stderr);
  t.diagnostic(`exited ${result.msAfterMarker?.toFixed(0)} ms after training finished`);
});
