// R1 and WGAN-GP penalties (src/train/penalties.ts) against PyTorch autograd (test/parity/penalties.py, the
// lesson's net_D in float64, double backward): the penalty and its gradient with respect to every weight of small
// discriminators (batch norm or not, every activation the schema offers, spectral norm), on each backend that
// loads. The gradient is all second-order terms: the weights reach the penalty only through D's input gradient.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../src/backend/select.ts';
import { sigmoidCrossEntropyMean } from '../src/backend/fused-kernels.ts';
import type { Model } from '../src/config/experiment.generated.ts';
import { buildDiscriminator, type ImageChannels } from '../src/model/build.ts';
import { discriminatorChannels, startSize } from '../src/plan/geometry.ts';
import { Rng } from '../src/random/rng.ts';
import { r1Penalty, wganGradientPenalty } from '../src/train/penalties.ts';
import { type NamedTensor, namedTensor, runTorchScript, torchSkip } from './parity/exchange.ts';
import { lessonModel, mnistModel } from './parity/fixtures.ts';
import { normals } from './support/numeric.ts';
import { needsBackend } from './support/requirements.ts';

const SCRIPT = fileURLToPath(new URL('./parity/penalties.py', import.meta.url));
const TOLERANCE = 1e-4;

const skip = torchSkip();

interface Case {
  name: string;
  model: Model;
  imageChannels: ImageChannels;
  batch: number;
}

// Init std 0.2 keeps activations and input gradients around 1 (the lesson's 0.02 makes them tiny without batch norm).
const init = { kind: 'normal', mean: 0, std: 0.2 } as const;
const CASES: Case[] = [
  {
    name: '16x16 RGB, batch norm, LeakyReLU 0.2',
    model: lessonModel({ imageSize: 16, discriminator: { blocks: 2, baseChannels: 4 }, init }),
    imageChannels: 3,
    batch: 4,
  },
  {
    name: '28x28 grayscale, no batch norm, LeakyReLU 0.2',
    model: mnistModel({ discriminator: { baseChannels: 4, batchNorm: false }, init }),
    imageChannels: 1,
    batch: 3,
  },
  {
    name: '16x16 RGB, no batch norm, ReLU',
    model: lessonModel({ imageSize: 16, discriminator: { blocks: 2, baseChannels: 4, batchNorm: false, activation: { kind: 'relu' } }, init }),
    imageChannels: 3,
    batch: 4,
  },
  {
    name: '16x16 RGB, batch norm, ELU',
    model: lessonModel({ imageSize: 16, discriminator: { blocks: 2, baseChannels: 4, activation: { kind: 'elu', alpha: 1 } }, init }),
    imageChannels: 3,
    batch: 4,
  },
  {
    name: '16x16 RGB, no batch norm, ELU 0.5 (ScaledElu)',
    model: lessonModel({ imageSize: 16, discriminator: { blocks: 2, baseChannels: 4, batchNorm: false, activation: { kind: 'elu', alpha: 0.5 } }, init }),
    imageChannels: 3,
    batch: 4,
  },
  {
    name: '16x16 RGB, no batch norm, SELU',
    model: lessonModel({ imageSize: 16, discriminator: { blocks: 2, baseChannels: 4, batchNorm: false, activation: { kind: 'selu' } }, init }),
    imageChannels: 3,
    batch: 4,
  },
  {
    name: '16x16 RGB, batch norm, tanh',
    model: lessonModel({ imageSize: 16, discriminator: { blocks: 2, baseChannels: 4, activation: { kind: 'tanh' } }, init }),
    imageChannels: 3,
    batch: 4,
  },
  {
    name: '16x16 RGB, no batch norm, swish',
    model: lessonModel({ imageSize: 16, discriminator: { blocks: 2, baseChannels: 4, batchNorm: false, activation: { kind: 'swish' } }, init }),
    imageChannels: 3,
    batch: 4,
  },
  // src/model/spectral-norm.ts: one power iteration per training-mode call, the gradient through the kernel only.
  {
    name: '16x16 RGB, spectral norm, no batch norm, LeakyReLU 0.2',
    model: lessonModel({ imageSize: 16, discriminator: { blocks: 2, baseChannels: 4, batchNorm: false, spectralNorm: true }, init }),
    imageChannels: 3,
    batch: 4,
  },
];
const PENALTIES = ['r1', 'wgan-gp'] as const;
type Penalty = (typeof PENALTIES)[number];

const SEED = 7;

/** D's weights (biases drawn, not zero, so they shift the activations) and the case's images and mixing weights. */
function caseInputs(c: Case, seed: number): Map<string, NamedTensor> {
  const D = buildDiscriminator(c.model, c.imageChannels, seed);
  const inputs = new Map<string, NamedTensor>();
  D.weights.forEach((w, i) => {
    const value = namedTensor(w.read());
    if (w.originalName.endsWith('/bias')) value.data = normals(value.data.length, seed + i, 0.1);
    inputs.set(`D/${w.originalName}`, value);
  });
  D.dispose();
  const shape = [c.batch, c.model.imageSize, c.model.imageSize, c.imageChannels];
  const images = (s: number) => ({
    shape,
    data: normals(
      shape.reduce((a, b) => a * b),
      s,
    ).map(Math.tanh),
  });
  inputs.set('real', images(seed + 100));
  inputs.set('fake', images(seed + 101));
  const rng = new Rng(seed + 102);
  inputs.set('mix', { shape: [c.batch, 1, 1, 1], data: Float32Array.from({ length: c.batch }, () => rng.next()) });
  return inputs;
}

function runTorch(inputs: Map<string, NamedTensor>[]): Map<string, NamedTensor> {
  const cases = CASES.map((c) => {
    const d = c.model.discriminator;
    const activation = { activation: d.activation.kind, alpha: 'alpha' in d.activation ? d.activation.alpha : null };
    return {
      name: c.name,
      channels: discriminatorChannels(d),
      imageChannels: c.imageChannels,
      finalKernel: startSize(c.model.imageSize, d.blocks),
      batchNorm: d.batchNorm !== false,
      spectralNorm: d.spectralNorm,
      epsilon: d.batchNorm === false ? null : d.batchNorm.epsilon,
      ...activation,
    };
  });
  const all = new Map(CASES.flatMap((c, i) => [...inputs[i]!].map(([name, t]) => [`${c.name}/${name}`, t] as const)));
  return runTorchScript(SCRIPT, { cases }, all);
}

/** The case's D on the active backend with exactly the given weights. */
function loadDiscriminator(c: Case, inputs: Map<string, NamedTensor>): tf.LayersModel {
  const D = buildDiscriminator(c.model, c.imageChannels, SEED);
  tf.tidy(() => {
    for (const w of D.weights) {
      const { shape, data } = inputs.get(`D/${w.originalName}`)!;
      w.write(tf.tensor(data, shape));
    }
  });
  return D;
}

interface Computed {
  value: number;
  grads: Map<string, Float32Array>;
}

function penaltyOf(D: tf.LayersModel, penalty: Penalty, t: Record<'real' | 'fake' | 'mix', tf.Tensor>): tf.Scalar {
  return penalty === 'r1' ? r1Penalty(D, t.real as tf.Tensor4D) : wganGradientPenalty(D, t.real as tf.Tensor4D, t.fake as tf.Tensor4D, t.mix);
}

/** The penalty and its gradient with respect to D's trainable weights, by weight name. */
function computeOurs(D: tf.LayersModel, penalty: Penalty, inputs: Map<string, NamedTensor>): Computed {
  const vars = D.trainableWeights.map((w) => w.read() as tf.Variable);
  const names = new Map(D.trainableWeights.map((w, i) => [vars[i]!.name, w.originalName]));
  const [real, fake, mix] = ['real', 'fake', 'mix'].map((k) => tf.tensor(inputs.get(k)!.data, inputs.get(k)!.shape));
  const { value, grads } = tf.variableGrads(() => penaltyOf(D, penalty, { real: real!, fake: fake!, mix: mix! }), vars);
  const computed = {
    value: value.dataSync()[0]!,
    grads: new Map(Object.entries(grads).map(([name, g]) => [names.get(name)!, g.dataSync() as Float32Array])),
  };
  tf.dispose([real!, fake!, mix!, value, ...Object.values(grads)]);
  return computed;
}

const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));

/**
 * ||ours - reference|| / ||reference|| per tensor; a tensor whose reference gradient is exactly 0 (biases and the
 * last beta of a piecewise-linear D reach the penalty only through its activation masks) against the whole gradient.
 */
function gradientErrors(ours: Map<string, ArrayLike<number>>, reference: (name: string) => NamedTensor): Map<string, number> {
  const total = norm([...ours.keys()].flatMap((name) => Array.from(reference(name).data)));
  return new Map(
    [...ours].map(([name, values]) => {
      const expected = reference(name).data;
      assert.equal(values.length, expected.length, `${name}: element counts differ`);
      const diff = norm(Array.from(values, (v, i) => v - expected[i]!));
      return [name, diff / (norm(expected) || total)] as const;
    }),
  );
}

const worst = (errors: Map<string, number>) => [...errors].reduce((a, b) => (b[1] > a[1] ? b : a));

const unavailableOn = { cpu: false, tensorflow: await needsBackend('tensorflow'), wasm: await needsBackend('wasm') } as const;

describe('gradient penalties against PyTorch autograd (second-order gradients)', { skip }, () => {
  let inputs: Map<string, NamedTensor>[];
  let torch: Map<string, NamedTensor>;
  const reference = (c: Case, key: string) => (name: string) => torch.get(`${c.name}/${key}/grad/${name}`)!;

  before(async () => {
    await useBackend('cpu');
    inputs = CASES.map((c) => caseInputs(c, SEED));
    torch = runTorch(inputs);
  });

  for (const backend of ['cpu', 'tensorflow', 'wasm'] as const) {
    it(
      `${backend}: R1 and WGAN-GP, value and gradient of every weight, within ${TOLERANCE} relative; no tensor leaks`,
      { skip: unavailableOn[backend] },
      async (t) => {
        await useBackend(backend);
        CASES.forEach((c, i) => {
          for (const penalty of PENALTIES) {
            // A fresh D for each, as on the PyTorch side: spectral norm's power iteration moves u on every call.
            const D = loadDiscriminator(c, inputs[i]!);
            const tensorsBefore = tf.memory().numTensors;
            const ours = computeOurs(D, penalty, inputs[i]!);
            assert.equal(tf.memory().numTensors, tensorsBefore, `${c.name} ${penalty}: tensors leaked`);
            D.dispose();
            const expected = torch.get(`${c.name}/${penalty}/value`)!.data[0]!;
            const valueError = Math.abs(ours.value - expected) / Math.abs(expected);
            const errors = gradientErrors(ours.grads, reference(c, penalty));
            const [name, error] = worst(errors);
            t.diagnostic(
              `${c.name}, ${penalty}: value ${expected.toPrecision(5)} (error ${valueError.toExponential(1)}), worst gradient ${name} ${error.toExponential(1)}`,
            );
            assert.ok(valueError <= TOLERANCE, `${c.name} ${penalty}: value ${ours.value} vs ${expected}`);
            for (const [n, e] of errors) assert.ok(e <= TOLERANCE, `${c.name} ${penalty}: ${n} relative error ${e.toExponential(2)}`);
          }
        });
      },
    );
  }

  it('the comparison is not blind to missing second-order terms', (t) => {
    for (const c of CASES) {
      for (const penalty of PENALTIES) {
        // With D's input gradient detached, the penalty's gradient with respect to the weights is 0: every kernel's
        // reference gradient is far from that.
        for (const name of torch.keys()) {
          if (name.startsWith(`${c.name}/${penalty}/grad/`) && name.endsWith('/kernel')) {
            assert.ok(norm(torch.get(name)!.data) > 0.01, `${name}: reference gradient ${norm(torch.get(name)!.data)}`);
          }
        }
        if (c.model.discriminator.batchNorm === false) continue;
        // A batch norm whose gradient reads saved constants (our written-out gradient, or the fused kernel, if it
        // were differentiated): the same value, gradients far off.
        const value = torch.get(`${c.name}/${penalty}/value`)!.data[0]!;
        const constantsValue = torch.get(`${c.name}/${penalty}/bn-constants/value`)!.data[0]!;
        assert.ok(Math.abs(constantsValue - value) <= 1e-6 * Math.abs(value), `${penalty}: values ${constantsValue} vs ${value}`);
        const reference = (name: string) => torch.get(`${c.name}/${penalty}/grad/${name}`)!;
        const constants = new Map(
          [...torch].filter(([n]) => n.startsWith(`${c.name}/${penalty}/bn-constants/grad/`)).map(([n, t]) => [n.split('/grad/')[1]!, t.data]),
        );
        const [name, error] = worst(gradientErrors(constants, reference));
        t.diagnostic(`${c.name}, ${penalty}, batch norm with saved constants: worst gradient ${name} ${error.toExponential(1)}`);
        assert.ok(error > 100 * TOLERANCE, `${penalty}: batch norm with saved constants is off by only ${error} (${name})`);
      }
    }
  });
});

describe('gradient penalties in a discriminator update', () => {
  const c = CASES[0]!;

  it('optimizer.minimize(loss + penalties) trains D, the penalty passes leave the moving statistics alone, no tensor leaks', async () => {
    await useBackend('cpu');
    const inputs = caseInputs(c, SEED);
    const D = loadDiscriminator(c, inputs);
    const [real, fake, mix] = ['real', 'fake', 'mix'].map((k) => tf.tensor(inputs.get(k)!.data, inputs.get(k)!.shape)) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor];
    const optimizer = tf.train.adam(1e-3);
    const vars = D.trainableWeights.map((w) => w.read() as tf.Variable);
    const movingMean = () => D.getLayer('d_block1_bn').getWeights()[2]!.dataSync().slice();
    const kernel = () => D.getLayer('d_block1_conv').getWeights()[0]!.dataSync().slice();

    const mean = movingMean();
    tf.tidy(() => {
      r1Penalty(D, real);
      wganGradientPenalty(D, real, fake, mix);
    });
    assert.deepEqual(movingMean(), mean, 'a penalty pass moved the moving statistics');

    const counts: number[] = [];
    const before = kernel();
    for (let step = 0; step < 3; step++) {
      const loss = optimizer.minimize(
        () => {
          const logits = D.apply(real, { training: true }) as tf.Tensor;
          return tf.addN([sigmoidCrossEntropyMean(logits, 1), tf.mul(r1Penalty(D, real), 5), tf.mul(wganGradientPenalty(D, real, fake, mix), 10)]) as tf.Scalar;
        },
        true,
        vars,
      )!;
      assert.ok(Number.isFinite(loss.dataSync()[0]), `step ${step}: loss ${loss.dataSync()[0]}`);
      loss.dispose();
      counts.push(tf.memory().numTensors);
    }
    assert.ok(
      kernel().some((v, i) => v !== before[i]),
      'the kernel did not move',
    );
    assert.deepEqual(counts.slice(1), [counts[0], counts[0]], `tensors after each step: ${counts}`);
    tf.dispose([real, fake, mix]);
    optimizer.dispose();
    D.dispose();
  });
});
