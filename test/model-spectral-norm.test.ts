// Spectral normalization (src/model/spectral-norm.ts): the normalised kernel's largest singular value
// against an eigen-decomposition, parity with PyTorch's torch.nn.utils.spectral_norm
// (test/parity/spectral_norm.py), double backprop, u and v in checkpoints, a training step on the
// tensorflow and cpu backends, and the default discriminator unchanged.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../src/backend/select.ts';
import { symmetricEigen } from '../src/eval/linalg.ts';
import { buildDiscriminator, buildGenerator } from '../src/model/build.ts';
import { powerIteration, sigmaOf, SpectralNormConv2D } from '../src/model/spectral-norm.ts';
import { loadLayersModel } from '../src/model/io.ts';
import { saveCheckpoint } from '../src/train/checkpoint.ts';
import { makeAdam, trainStep } from '../src/train/step.ts';
import { type NamedTensor, readTensors, writeTensors } from './parity/exchange.ts';
import { LESSON_ADAM, lessonModel } from './parity/fixtures.ts';
import { normals, relativeError, size } from './support/numeric.ts';
import { needs, needsBackend } from './support/requirements.ts';

const PYTHON = process.env.PARITY_PYTHON ?? '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./parity/spectral_norm.py', import.meta.url));
const torchFound = spawnSync(PYTHON, ['-c', 'import torch, numpy'], { stdio: 'ignore' }).status === 0;
const skipTorch = needs('torch', torchFound ? false : 'python3 with torch not found: apt-get install python3-torch (or set PARITY_PYTHON)');
const skipTensorflow = await needsBackend('tensorflow', 'tfjs-node not built: run npm run setup:tensorflow');
const TOLERANCE = 1e-5;

await useBackend('cpu');

interface ConvCase {
  filters: number;
  kernelSize: number;
  strides?: number;
  padding?: 'same' | 'valid';
  /** Kernel ~ N(0, std). */
  std: number;
  seed: number;
}

/** A spectrally normalised conv with a seeded kernel and a seeded, non-zero bias. */
function snConv(c: ConvCase): SpectralNormConv2D {
  return new SpectralNormConv2D({
    name: `sn${c.seed}`,
    filters: c.filters,
    kernelSize: c.kernelSize,
    strides: c.strides ?? 1,
    padding: c.padding ?? 'valid',
    kernelInitializer: tf.initializers.randomNormal({ mean: 0, stddev: c.std, seed: c.seed }),
    biasInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 0.1, seed: c.seed + 1 }),
    seed: c.seed + 2,
  });
}

/** A layer weight by its short name (kernel, bias, u or v): in a model it is scoped by the layer's name. */
function weight(layer: tf.layers.Layer, name: string): tf.LayerVariable {
  const found = layer.weights.find((w) => w.originalName.split('/').pop() === name);
  assert.ok(found, `${layer.name} has no weight ${name}`);
  return found;
}

const values = (t: tf.Tensor): Float32Array => t.dataSync() as Float32Array;

/** A layer's output on a concrete batch. */
const run = (layer: tf.layers.Layer, x: tf.Tensor, training: boolean) => layer.apply(x, { training }) as tf.Tensor;

/** sigma_max of a kernel read as the matrix M = [kh*kw*in, out]: the square root of W^T W's largest eigenvalue. */
function largestSingularValue(kernel: tf.Tensor): number {
  const columns = kernel.shape[kernel.rank - 1];
  const m = values(kernel);
  const rows = m.length / columns;
  const gram = new Float64Array(columns * columns);
  for (let i = 0; i < columns; i++) {
    for (let j = 0; j < columns; j++) {
      let sum = 0;
      for (let r = 0; r < rows; r++) sum += m[r * columns + i] * m[r * columns + j];
      gram[i * columns + j] = sum;
    }
  }
  return Math.sqrt(Math.max(...symmetricEigen(gram, columns).values));
}

describe('spectral normalization: the normalised kernel', () => {
  it('after power iterations its largest singular value is 1 within 1e-2 (eigenvalues of W^T W)', (t) => {
    const layer = snConv({ filters: 6, kernelSize: 3, std: 1, seed: 5 });
    const x = tf.randomNormal([1, 5, 5, 4], 0, 1, 'float32', 9);
    layer.build(x.shape);
    const raw = largestSingularValue(weight(layer, 'kernel').read());
    assert.ok(raw > 2, `the raw kernel's sigma_max ${raw} should be far from 1, or the check is blind`);
    const after: Record<number, number> = {};
    for (let call = 1; call <= 50; call++) {
      tf.dispose(run(layer, x, true));
      if ([1, 5, 20, 50].includes(call)) after[call] = tf.tidy(() => largestSingularValue(layer.normalizedKernel(false)));
    }
    t.diagnostic(
      `raw sigma_max ${raw.toFixed(4)}; normalised after n calls: ${Object.entries(after)
        .map(([n, s]) => `${n}: ${s.toFixed(6)}`)
        .join(', ')}`,
    );
    assert.ok(Math.abs(after[50] - 1) < 1e-2, `sigma_max ${after[50]} after 50 power iterations`);
  });

  it('a one-filter conv (the final layer) is exact after one call: M is a column, sigma its norm', () => {
    const layer = snConv({ filters: 1, kernelSize: 4, std: 0.5, seed: 21 });
    tf.dispose(run(layer, tf.ones([1, 4, 4, 3]), true));
    assert.ok(Math.abs(tf.tidy(() => largestSingularValue(layer.normalizedKernel(false))) - 1) < 1e-6);
  });

  it('inference mode leaves u and v as they are', () => {
    const layer = snConv({ filters: 4, kernelSize: 3, std: 1, seed: 31 });
    const x = tf.randomNormal([2, 6, 6, 2], 0, 1, 'float32', 32);
    tf.dispose(run(layer, x, true));
    const [u, v] = ['u', 'v'].map((n) => values(weight(layer, n).read()).slice());
    tf.dispose([run(layer, x, false), layer.apply(x) as tf.Tensor]);
    assert.deepEqual(values(weight(layer, 'u').read()), u);
    assert.deepEqual(values(weight(layer, 'v').read()), v);
  });
});

describe('spectral normalization: double backprop (what R1 / WGAN-GP need), cpu', () => {
  // D(x) = sum(square(conv(x)) * r); the penalty is |dD/dx|^2, differentiated w.r.t. the raw kernel.
  // The activation is square because tfjs 4.22 cannot differentiate the usual ones twice on cpu: tf.leakyRelu's
  // gradient uses tf.greater, which has no gradient (it throws); tanh's and sigmoid's gradients read the op's
  // saved output, whose tape node comes after the op's own, so the second backprop silently drops that term.
  // square's gradient reads its saved input, which it does correctly.
  const layer = snConv({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', std: 0.5, seed: 41 });
  const x = tf.randomNormal([2, 6, 6, 3], 0, 1, 'float32', 42);
  const r = tf.randomNormal([2, 3, 3, 4], 0, 1, 'float32', 43);
  const penalty = (training: boolean) => () => {
    const dx = tf.grad((input: tf.Tensor) => tf.sum(tf.mul(tf.square(run(layer, input, training)), r)))(x);
    return tf.sum(tf.square(dx)) as tf.Scalar;
  };
  before(() => layer.build(x.shape));

  it('in training mode the second-order gradient w.r.t. the kernel is finite and non-zero', () => {
    const kernel = weight(layer, 'kernel').read() as tf.Variable;
    const g = tf.tidy(() => values(tf.variableGrads(penalty(true), [kernel]).grads[kernel.name]));
    assert.ok(g.every(Number.isFinite) && g.some((v) => v !== 0));
  });

  it('it is the derivative: central differences agree on the largest entries (inference mode: u, v fixed)', (t) => {
    const variable = weight(layer, 'kernel');
    const kernel = variable.read() as tf.Variable;
    const g = tf.tidy(() => values(tf.variableGrads(penalty(false), [kernel]).grads[kernel.name]));
    const original = values(kernel).slice();
    const at = (data: Float32Array) => {
      variable.write(tf.tensor(data, kernel.shape));
      return tf.tidy(() => values(penalty(false)())[0]);
    };
    const h = 1e-2;
    const largest = [...g.keys()].sort((a, b) => Math.abs(g[b]) - Math.abs(g[a])).slice(0, 3);
    const report: string[] = [];
    for (const i of largest) {
      const plus = original.slice();
      const minus = original.slice();
      plus[i] += h;
      minus[i] -= h;
      const numeric = (at(plus) - at(minus)) / (2 * h);
      report.push(`${g[i].toExponential(4)} vs ${numeric.toExponential(4)}`);
      assert.ok(Math.abs(numeric - g[i]) <= 1e-3 * Math.abs(g[i]), `entry ${i}: ${g[i]} vs central difference ${numeric}`);
    }
    variable.write(tf.tensor(original, kernel.shape));
    t.diagnostic(`analytic vs central difference: ${report.join('; ')}`);
  });
});

describe('spectral normalization: PyTorch parity (torch.nn.utils.spectral_norm)', { skip: skipTorch }, () => {
  // k4 s2 'same' on an even side is PyTorch's padding 1 (see src/model/build.ts).
  const c: ConvCase = { filters: 5, kernelSize: 4, strides: 2, padding: 'same', std: 0.3, seed: 51 };
  const shape = [2, 8, 8, 3];
  const outShape = [2, 4, 4, 5];
  const inputs = new Map<string, NamedTensor>();
  const ours = new Map<string, Float32Array>();
  let torch: Map<string, NamedTensor>;
  const report: string[] = [];
  const input = (name: string) => tf.tensor(inputs.get(name)!.data, inputs.get(name)!.shape);

  before(() => {
    const layer = snConv(c);
    layer.build(shape);
    const put = (name: string, data: Float32Array, s: number[]) => inputs.set(name, { shape: s, data });
    for (const name of ['kernel', 'bias', 'u']) {
      const w = weight(layer, name).read();
      put(name === 'u' ? 'u0' : name, values(w).slice(), [...w.shape]);
    }
    put('x1', normals(size(shape), 52), shape);
    put('x2', normals(size(shape), 53), shape);
    put('r1', normals(size(outShape), 54), outShape);
    put('r2', normals(size(outShape), 55), outShape);
    put('delta', normals(size(inputs.get('kernel')!.shape), 56, 0.1), inputs.get('kernel')!.shape);

    // Two training-mode calls in one loss, as D sees a real and a fake batch; then an optimizer-like change and eval.
    const kernel = weight(layer, 'kernel').read() as tf.Variable;
    const copy = (name: string, t: tf.Tensor) => ours.set(name, values(t).slice());
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => {
        const y1 = run(layer, input('x1'), true);
        copy('u1', weight(layer, 'u').read());
        copy('v1', weight(layer, 'v').read());
        copy('weight1', layer.normalizedKernel(false));
        const y2 = run(layer, input('x2'), true);
        copy('u2', weight(layer, 'u').read());
        copy('v2', weight(layer, 'v').read());
        copy('y1', y1);
        copy('y2', y2);
        return tf.add(tf.sum(tf.mul(y1, input('r1'))), tf.sum(tf.mul(y2, input('r2')))) as tf.Scalar;
      }, [kernel]);
      copy('grad_kernel', grads[kernel.name]);
      weight(layer, 'kernel').write(tf.add(kernel, input('delta')));
      copy('y_eval', run(layer, input('x1'), false));
    });

    const dir = mkdtempSync(path.join(os.tmpdir(), 'dcgan-sn-parity-'));
    try {
      writeTensors(path.join(dir, 'input'), { stride: 2, padding: 1 }, inputs);
      const child = spawnSync(PYTHON, [SCRIPT, dir], { encoding: 'utf8' });
      assert.equal(child.status, 0, `${PYTHON} ${SCRIPT} failed:\n${child.stderr}`);
      torch = readTensors(path.join(dir, 'output')).tensors;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  after(() => console.log(`# spectral norm parity (relative to PyTorch): ${report.join('; ')}`));

  const error = (name: string, actual = ours.get(name)!) => relativeError(actual, torch.get(name)!.data);
  const check = (name: string) => {
    const e = error(name);
    report.push(`${name} ${e.toExponential(2)}`);
    assert.ok(e <= TOLERANCE, `${name}: relative error ${e} > ${TOLERANCE}`);
  };
  /** A mutated computation must miss PyTorch by far more than the tolerance, or the comparison is blind. */
  const differs = (label: string, name: string, actual: Float32Array) => {
    const e = error(name, actual);
    report.push(`${label}: ${name} ${e.toExponential(2)}`);
    assert.ok(e > 100 * TOLERANCE, `${label}: ${name} within ${e} of PyTorch`);
  };

  /** conv(x, kernel / sigma) + bias: the layer's forward, rebuilt for the mutations. */
  const forward = (x: tf.Tensor, kernel: tf.Tensor, sigma: tf.Scalar) =>
    tf.add(tf.conv2d(x as tf.Tensor4D, tf.div(kernel, sigma) as tf.Tensor4D, 2, 'same'), input('bias'));
  const matrix = (kernel: tf.Tensor) => tf.reshape(kernel, [-1, c.filters]) as tf.Tensor2D;

  it('u and v after each power iteration', () => ['u1', 'v1', 'u2', 'v2'].forEach(check));
  it('the normalised weight', () => check('weight1'));
  it('the conv outputs of both training-mode calls', () => ['y1', 'y2'].forEach(check));
  it('the gradient of the loss w.r.t. the raw kernel (u and v constants)', () => check('grad_kernel'));
  it('eval mode after the kernel changed: sigma from the stored u and v', () => check('y_eval'));

  it('mutation: letting the gradient flow through the power iteration changes it', () => {
    const grad = tf.tidy(() =>
      values(
        tf.grad((kernel: tf.Tensor) => {
          const m = matrix(kernel);
          const first = powerIteration(m, input('u0') as tf.Tensor1D);
          const second = powerIteration(m, first.u);
          const y1 = forward(input('x1'), kernel, sigmaOf(m, first.u, first.v));
          const y2 = forward(input('x2'), kernel, sigmaOf(m, second.u, second.v));
          return tf.add(tf.sum(tf.mul(y1, input('r1'))), tf.sum(tf.mul(y2, input('r2'))));
        })(input('kernel')),
      ),
    );
    differs('u, v not constant', 'grad_kernel', grad);
  });

  it('mutation: skipping the update (inference mode from the start) changes u and the output', () => {
    const fresh = snConv(c);
    const y = tf.tidy(() => values(run(fresh, input('x1'), false)));
    differs('no update', 'u1', values(weight(fresh, 'u').read()));
    differs('no update', 'y1', y);
  });

  it('mutation: eval mode recomputing v from u (v = normalize(M u)) instead of the stored v differs', () => {
    const y = tf.tidy(() => {
      const kernel = tf.add(input('kernel'), input('delta'));
      const m = matrix(kernel);
      const u = tf.tensor1d(torch.get('u2')!.data);
      return values(forward(input('x1'), kernel, sigmaOf(m, u, powerIteration(m, u).v)));
    });
    differs('v from u at eval', 'y_eval', y);
  });
});

/** The usual SN-GAN combination on a 16x16 DCGAN: spectral norm, no batch norm in D. */
const snModel = lessonModel({
  latentDim: 8,
  imageSize: 16,
  generator: { blocks: 2, baseChannels: 8 },
  discriminator: { blocks: 2, baseChannels: 8, batchNorm: false, spectralNorm: true },
});
const BATCH = 4;
const uAndV = (m: tf.LayersModel) => m.weights.filter((w) => /\/[uv]$/.test(w.originalName));

interface Trained {
  G: tf.LayersModel;
  D: tf.LayersModel;
  optimizers: { generator: tf.Optimizer; discriminator: tf.Optimizer };
  real: tf.Tensor4D;
  /** lossD, lossG, dReal, dFake of the step. */
  losses: number[];
}

/** Runs `check` on G and D built from snModel after one trainStep on a seeded batch, then disposes them. */
async function withTrainedModels(check: (trained: Trained) => Promise<void>): Promise<void> {
  const G = buildGenerator(snModel, 3, 1);
  const D = buildDiscriminator(snModel, 3, 2);
  const optimizers = { generator: makeAdam(LESSON_ADAM), discriminator: makeAdam(LESSON_ADAM) };
  const real = tf.tensor4d(normals(BATCH * 16 * 16 * 3, 61).map(Math.tanh), [BATCH, 16, 16, 3]);
  const noise = tf.tensor2d(normals(BATCH * 8, 62), [BATCH, 8]);
  try {
    const m = trainStep(G, D, optimizers, real, noise);
    const losses = [m.lossD, m.lossG, m.dReal, m.dFake].map((s) => values(s)[0]);
    tf.dispose([m.lossD, m.lossG, m.dReal, m.dFake]);
    await check({ G, D, optimizers, real, losses });
  } finally {
    tf.dispose([real, noise]);
    optimizers.generator.dispose();
    optimizers.discriminator.dispose();
    G.dispose();
    D.dispose();
  }
}

describe('spectral normalization in the discriminator', () => {
  it('u and v survive a checkpoint save / load round trip', async () => {
    const initial = buildDiscriminator(snModel, 3, 2);
    const initialState = new Map(uAndV(initial).map((w) => [w.originalName, values(w.read()).slice()]));
    initial.dispose();
    const runDir = mkdtempSync(path.join(os.tmpdir(), 'dcgan-sn-checkpoint-'));
    try {
      await withTrainedModels(async ({ G, D, optimizers, real }) => {
        const saved = uAndV(D);
        assert.equal(saved.length, 2 * 3, 'u and v for each of the three convs');
        // The final conv's u has one entry, which normalising makes ±1 for good.
        for (const w of saved.filter((w) => w.originalName !== 'd_out_conv/u'))
          assert.notDeepEqual(values(w.read()), initialState.get(w.originalName), `${w.originalName} was not updated by the step`);
        const dir = await saveCheckpoint(runDir, { generator: G, discriminator: D, optimizers, epoch: 1, step: 1 });
        const loaded = await loadLayersModel(path.join(dir, 'discriminator'));
        try {
          assert.deepEqual(
            loaded.layers.filter((l) => l instanceof SpectralNormConv2D).map((l) => l.name),
            ['d_block1_conv', 'd_block2_conv', 'd_out_conv'],
          );
          const back = new Map(loaded.weights.map((w) => [w.originalName, values(w.read())]));
          for (const w of D.weights) assert.deepEqual(back.get(w.originalName), values(w.read()), w.originalName);
          tf.tidy(() => assert.deepEqual(values(loaded.predict(real) as tf.Tensor), values(D.predict(real) as tf.Tensor)));
        } finally {
          loaded.dispose();
        }
      });
    } finally {
      rmSync(runDir, { recursive: true, force: true });
    }
  });

  for (const backend of ['cpu', 'tensorflow'] as const) {
    it(`trains one step with trainStep on ${backend}: finite losses and output, u updated`, { skip: backend === 'tensorflow' && skipTensorflow }, async () => {
      await useBackend(backend);
      try {
        await withTrainedModels(async ({ D, real, losses }) => {
          assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
          const initial = buildDiscriminator(snModel, 3, 2);
          const u = (m: tf.LayersModel) => values(weight(m.getLayer('d_block2_conv'), 'u').read());
          assert.notDeepEqual(u(D), u(initial));
          initial.dispose();
          const out = tf.tidy(() => [values(run(D, real, true)), values(D.predict(real) as tf.Tensor)]);
          for (const o of out) assert.ok(o.every(Number.isFinite), `D output ${o}`);
        });
      } finally {
        await useBackend('cpu');
      }
    });
  }

  it('spectralNorm false builds the stock discriminator; true only swaps the convs and adds u and v', () => {
    const base = { latentDim: 8, imageSize: 16, generator: { blocks: 2, baseChannels: 8 } };
    const plain = buildDiscriminator(lessonModel({ ...base, discriminator: { blocks: 2, baseChannels: 8 } }), 3, 4);
    const sn = buildDiscriminator(lessonModel({ ...base, discriminator: { blocks: 2, baseChannels: 8, spectralNorm: true } }), 3, 4);
    const again = buildDiscriminator(lessonModel({ ...base, discriminator: { blocks: 2, baseChannels: 8, spectralNorm: true } }), 3, 4);
    try {
      assert.deepEqual(
        plain.layers.map((l) => `${l.name}:${l.getClassName()}`),
        [
          'd_input:InputLayer',
          'd_block1_conv:Conv2D',
          'd_block1_bn:BatchNormalization',
          'd_block1_act:LeakyReLU',
          'd_block2_conv:Conv2D',
          'd_block2_bn:BatchNormalization',
          'd_block2_act:LeakyReLU',
          'd_out_conv:Conv2D',
          'd_logit:Flatten',
        ],
      );
      const bn = (b: number) => ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((w) => `d_block${b}_bn/${w}`);
      const plainNames = ['d_block1_conv/kernel', ...bn(1), 'd_block2_conv/kernel', ...bn(2), 'd_out_conv/kernel'];
      assert.deepEqual(plain.weights.map((w) => w.originalName).sort(), plainNames.sort());

      assert.deepEqual(
        sn.layers.map((l) => l.name),
        plain.layers.map((l) => l.name),
      );
      const convs = ['d_block1_conv', 'd_block2_conv', 'd_out_conv'];
      assert.deepEqual(
        sn.layers.filter((l) => l.getClassName() === 'DcganSpectralNormConv2D').map((l) => l.name),
        convs,
      );
      const snWeights = new Map(sn.weights.map((w) => [w.originalName, values(w.read())]));
      assert.deepEqual([...snWeights.keys()].sort(), [...plainNames, ...convs.flatMap((l) => [`${l}/u`, `${l}/v`])].sort());
      for (const w of plain.weights) assert.deepEqual(snWeights.get(w.originalName), values(w.read()), w.originalName);

      // u is seeded (the same build twice gives the same u) and starts as a unit vector.
      for (const l of convs) {
        const u = snWeights.get(`${l}/u`)!;
        assert.deepEqual(values(weight(again.getLayer(l), 'u').read()), u);
        assert.ok(Math.abs(Math.hypot(...u) - 1) < 1e-6);
      }
    } finally {
      for (const m of [plain, sn, again]) m.dispose();
    }
  });
});
