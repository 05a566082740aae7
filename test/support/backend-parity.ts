// One DCGAN training step, the gradients of both losses, one batch-norm layer call, the fused loss and Adam, on any
// backend from identical weights: what the backend tests compare against the pure-JS cpu backend.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { sigmoidCrossEntropyMean } from '../../src/backend/fused-kernels.ts';
import { type BackendName, useBackend } from '../../src/backend/select.ts';
import { buildDiscriminator, buildGenerator } from '../../src/model/build.ts';
import { FusedBatchNorm } from '../../src/model/layers.ts';
import { makeAdam, trainStep } from '../../src/train/step.ts';
import { LESSON_ADAM, tinyModel } from '../parity/fixtures.ts';
import { normals, relativeError, size } from './numeric.ts';

const MODEL = tinyModel();
const ADAM = LESSON_ADAM;
const BATCH = 8;
const REAL = normals(BATCH * 16 * 16 * 3, 41).map(Math.tanh);
const NOISE = normals(BATCH * MODEL.latentDim, 42);

export interface Trained {
  losses: number[][];
  weights: Map<string, Float32Array>;
  numTensors: number[];
  numDataIds: number[];
}

/**
 * Builds G and D on `backend` (seeded initialisers: the same weights on every backend, checked below), runs
 * `steps` training steps on the same batch and noise, and returns the losses, the weights afterwards (moving
 * batch-norm statistics included) and the tensor counts after each step.
 */
export async function train(backend: BackendName, steps: number, initial?: Map<string, Float32Array>): Promise<Trained> {
  await useBackend(backend);
  const generator = buildGenerator(MODEL, 3, 7);
  const discriminator = buildDiscriminator(MODEL, 3, 8);
  const weights = () => readWeights([...generator.weights, ...discriminator.weights]);
  if (initial) {
    for (const [name, values] of await weights()) {
      assert.ok(relativeError(values, initial.get(name)!) === 0, `initial ${name} differs between backends`);
    }
  }
  const optimizers = { generator: makeAdam(ADAM), discriminator: makeAdam(ADAM) };
  const real = tf.tensor4d(REAL, [BATCH, 16, 16, 3]);
  const noise = tf.tensor2d(NOISE, [BATCH, MODEL.latentDim]);
  const result: Trained = { losses: [], weights: new Map(), numTensors: [], numDataIds: [] };
  try {
    for (let i = 0; i < steps; i++) {
      const m = trainStep(generator, discriminator, optimizers, real, noise);
      result.losses.push(await Promise.all([m.lossD, m.lossG, m.dReal, m.dFake].map(async (s) => (await s.data())[0]!)));
      tf.dispose([m.lossD, m.lossG, m.dReal, m.dFake]);
      result.numTensors.push(tf.memory().numTensors);
      result.numDataIds.push(tf.engine().backend.numDataIds());
    }
    result.weights = await weights();
  } finally {
    tf.dispose([real, noise]);
    optimizers.generator.dispose();
    optimizers.discriminator.dispose();
    generator.dispose();
    discriminator.dispose();
  }
  return result;
}

/** Values by name, read without dataSync (which webgpu does not offer in Node). */
async function readWeights(weights: tf.LayerVariable[]): Promise<Map<string, Float32Array>> {
  return new Map(await Promise.all(weights.map(async (w) => [w.originalName, (await w.read().data()) as Float32Array] as const)));
}

async function initialWeights(): Promise<Map<string, Float32Array>> {
  await useBackend('cpu');
  const g = buildGenerator(MODEL, 3, 7);
  const d = buildDiscriminator(MODEL, 3, 8);
  const w = await readWeights([...g.weights, ...d.weights]);
  g.dispose();
  d.dispose();
  return w;
}

/** dLoss/dWeight of both networks' losses at the initial weights, before Adam (whose first step is nearly sign(grad)). */
async function gradients(backend: BackendName): Promise<Map<string, Float32Array>> {
  await useBackend(backend);
  const generator = buildGenerator(MODEL, 3, 7);
  const discriminator = buildDiscriminator(MODEL, 3, 8);
  const vars = (m: tf.LayersModel) => m.trainableWeights.map((w) => w.read() as tf.Variable);
  const computed = tf.tidy(() => {
    const real = tf.tensor4d(REAL, [BATCH, 16, 16, 3]);
    const noise = tf.tensor2d(NOISE, [BATCH, MODEL.latentDim]);
    const bce = (logits: tf.Tensor, label: number) => tf.losses.sigmoidCrossEntropy(tf.fill(logits.shape, label), logits) as tf.Scalar;
    const fake = generator.apply(noise, { training: true }) as tf.Tensor;
    const d = tf.variableGrads(
      () =>
        bce(discriminator.apply(real, { training: true }) as tf.Tensor, 1).add(bce(discriminator.apply(fake, { training: true }) as tf.Tensor, 0)) as tf.Scalar,
      vars(discriminator),
    );
    const g = tf.variableGrads(() => bce(discriminator.apply(generator.apply(noise, { training: true }), { training: true }) as tf.Tensor, 1), vars(generator));
    return [['lossD', d.value], ['lossG', g.value], ...Object.entries(d.grads), ...Object.entries(g.grads)] as [string, tf.Tensor][];
  });
  const out = new Map(await Promise.all(computed.map(async ([name, t]) => [name, (await t.data()) as Float32Array] as const)));
  tf.dispose(computed.map(([, t]) => t));
  generator.dispose();
  discriminator.dispose();
  // Variable names carry a per-process counter suffix; the order of creation is the same on both backends.
  return new Map([...out].map(([name, v], i) => [`${i}:${name.replace(/_\d+$/, '')}`, v]));
}

/** One step on `backend` and on cpu from the same weights: losses and every updated weight agree within `tolerance`. */
export async function assertStepMatchesCpu(backend: BackendName, tolerance: number): Promise<string> {
  const initial = await initialWeights();
  const expected = await train('cpu', 1);
  const actual = await train(backend, 1, initial);
  const names = ['lossD', 'lossG', 'D(x)', 'D(G(z))'];
  expected.losses[0].forEach((e, i) => {
    const err = Math.abs(actual.losses[0][i] - e) / Math.abs(e);
    assert.ok(err <= tolerance, `${names[i]}: ${backend} ${actual.losses[0][i]} vs cpu ${e}`);
  });
  assert.deepEqual([...actual.weights.keys()].sort(), [...expected.weights.keys()].sort());
  let changed = 0;
  let worst = 0;
  for (const [name, e] of expected.weights) {
    const err = relativeError(actual.weights.get(name)!, e);
    assert.ok(err <= tolerance, `${name}: relative error ${err.toExponential(2)}`);
    worst = Math.max(worst, err);
    if (relativeError(e, initial.get(name)!) > 0) changed++;
  }
  // The step really trained something: every kernel, gamma and beta and the moving statistics move.
  assert.ok(changed >= expected.weights.size - 1, `only ${changed} of ${expected.weights.size} weights changed`);
  const lossErr = Math.max(...expected.losses[0].map((e, i) => Math.abs(actual.losses[0][i] - e) / Math.abs(e)));
  return `losses: relative error ${lossErr.toExponential(2)}; weights: ${worst.toExponential(2)} (${expected.weights.size} tensors)`;
}

/** Both losses and every gradient on `backend` agree with cpu within `tolerance`. */
export async function assertGradientsMatchCpu(backend: BackendName, tolerance: number): Promise<string> {
  const expected = await gradients('cpu');
  const actual = await gradients(backend);
  assert.deepEqual([...actual.keys()], [...expected.keys()]);
  let worst = 0;
  for (const [name, e] of expected) {
    const err = relativeError(actual.get(name)!, e);
    assert.ok(err <= tolerance, `${name}: relative error ${err.toExponential(2)}`);
    worst = Math.max(worst, err);
  }
  return `worst relative error over ${expected.size} gradients and losses: ${worst.toExponential(2)}`;
}

/** Output and gradients (input, gamma, beta), then the moving mean and variance after the call, for one layer call in training mode. */
async function batchNorm(backend: BackendName, shape: [number, number, number, number], epsilon: number): Promise<Record<string, Float32Array>> {
  await useBackend(backend);
  const layer = new FusedBatchNorm({
    momentum: 0.9,
    epsilon,
    gammaInitializer: tf.initializers.randomNormal({ mean: 1, stddev: 0.3, seed: 1 }),
    betaInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 0.3, seed: 2 }),
  });
  const size = shape.reduce((a, b) => a * b);
  const x = tf.tensor4d(
    normals(size, 3).map((v) => 0.3 + 2 * v),
    shape,
  );
  const w = tf.tensor4d(normals(size, 4), shape);
  layer.build(shape);
  const [gamma, beta] = layer.trainableWeights.map((v) => v.read() as tf.Variable);
  const objective = (input: tf.Tensor) => tf.sum(tf.mul(layer.apply(input, { training: true }) as tf.Tensor, w)) as tf.Scalar;
  const result = tf.tidy(() => {
    const y = layer.apply(x, { training: true }) as tf.Tensor;
    const { grads } = tf.variableGrads(() => objective(x), [gamma!, beta!]);
    const dx = tf.grad(objective)(x);
    return { y, dx, dGamma: grads[gamma!.name]!, dBeta: grads[beta!.name]! };
  });
  const [, , movingMean, movingVariance] = layer.getWeights();
  const entries = Object.entries({ ...result, movingMean: movingMean!, movingVariance: movingVariance! });
  const out = Object.fromEntries(await Promise.all(entries.map(async ([k, t]) => [k, (await t.data()) as Float32Array] as const)));
  tf.dispose([x, w, ...Object.values(result)]);
  for (const weight of layer.weights) weight.dispose();
  return out;
}

export interface BatchNormCase {
  name: string;
  shape: [number, number, number, number];
  epsilon: number;
}

export const BATCH_NORM_CASES: BatchNormCase[] = [
  { name: "the lesson's epsilon 0.8, D's [8,16,16,64]", shape: [8, 16, 16, 64], epsilon: 0.8 },
  { name: 'epsilon 1e-5, odd sizes [3,5,7,6]', shape: [3, 5, 7, 6], epsilon: 1e-5 },
  { name: 'rows not a multiple of 256, [3,15,15,5]', shape: [3, 15, 15, 5], epsilon: 1e-3 },
  // G's first block: one pixel per image, so the batch statistics come from 4 values per channel.
  { name: 'a 1x1 map, batch 4', shape: [4, 1, 1, 10], epsilon: 1e-3 },
];

/** A FusedBatchNorm call in training mode on `backend` and on cpu: output, gradients and moving statistics agree within `tolerance`. */
export async function assertBatchNormMatchesCpu(backend: BackendName, c: BatchNormCase, tolerance: number): Promise<string> {
  const expected = await batchNorm('cpu', c.shape, c.epsilon);
  const actual = await batchNorm(backend, c.shape, c.epsilon);
  const errors = Object.keys(expected).map((k) => [k, relativeError(actual[k]!, expected[k]!)] as const);
  for (const [k, err] of errors) assert.ok(err <= tolerance, `${k}: relative error ${err.toExponential(2)}`);
  return errors.map(([k, err]) => `${k} ${err.toExponential(1)}`).join(', ');
}

/** Reads tensors back asynchronously (webgpu has no usable dataSync in Node) and disposes them. */
export async function readAndDispose(tensors: tf.Tensor[]): Promise<Float32Array[]> {
  const out = await Promise.all(tensors.map(async (t) => (await t.data()) as Float32Array));
  tf.dispose(tensors);
  return out;
}

/** The fused bce loss (value and gradient) on `backend` against tfjs-core's sigmoid cross-entropy on cpu, large logits included. */
export async function assertLossMatchesCpu(backend: BackendName, tolerance: number): Promise<void> {
  const logits = Float32Array.from([...normals(61, 64).map((v) => 4 * v), 0, 30, -30, 90, -90]);
  const run = async (on: BackendName, label: 0 | 1) => {
    await useBackend(on);
    const x = tf.tensor4d(logits, [logits.length, 1, 1, 1]);
    const { value, grad } = tf.valueAndGrad((z: tf.Tensor) => sigmoidCrossEntropyMean(z, label))(x);
    tf.dispose(x);
    return readAndDispose([value, grad]);
  };
  for (const label of [0, 1] as const) {
    const [expectedLoss, expectedGrad] = await run('cpu', label);
    const [loss, grad] = await run(backend, label);
    assert.ok(relativeError(loss!, expectedLoss!) <= tolerance, `label ${label}: loss ${loss} vs ${expectedLoss}`);
    assert.ok(relativeError(grad!, expectedGrad!) <= tolerance, `label ${label}: gradient relative error ${relativeError(grad!, expectedGrad!)}`);
  }
}

/**
 * BiasCorrectedAdam on `backend` against its tfjs-ops path on cpu and tf.train.adam's saved-state layout. Between
 * its updates the state is saved, one more update made, then weights and state are set back (a resume): an
 * implementation that keeps its own copy of either must pick up both.
 */
export async function assertAdamMatchesCpu(backend: BackendName, tolerance: number, stateTolerance = tolerance): Promise<void> {
  const shapes = [[4, 4, 3, 8], [8], [1]];
  const gradients = (variables: tf.Variable[], step: number) =>
    Object.fromEntries(variables.map((v, i) => [v.name, tf.tensor(normals(v.size, 80 + 10 * step + i), v.shape)]));
  const update = (optimizer: tf.Optimizer, variables: tf.Variable[], step: number) => {
    const grads = gradients(variables, step);
    optimizer.applyGradients(grads);
    tf.dispose(Object.values(grads));
  };
  const run = async (on: BackendName, make: () => tf.Optimizer) => {
    await useBackend(on);
    const variables = shapes.map((shape, i) => tf.variable(tf.tensor(normals(size(shape), 70 + i), shape), true, `adam_check_${on}_${i}_${Math.random()}`));
    const optimizer = make();
    for (let step = 0; step < 2; step++) update(optimizer, variables, step);
    const savedState = await optimizer.getWeights();
    const saved = { values: variables.map((v) => v.clone()), state: savedState.map((w) => ({ name: w.name, tensor: w.tensor.clone() })) };
    update(optimizer, variables, 2);
    variables.forEach((v, i) => v.assign(saved.values[i]!));
    await optimizer.setWeights(saved.state);
    for (let step = 2; step < 4; step++) update(optimizer, variables, step);
    const values = await readAndDispose(variables.map((v) => v.clone()));
    const state = await optimizer.getWeights();
    const result = {
      values,
      names: state.map((w) => w.name.replace(/adam_check_\w+?_(\d)_[\d.]+/, 'v$1')),
      state: await readAndDispose(state.map((w) => w.tensor.clone())),
    };
    optimizer.dispose();
    tf.dispose([...variables, ...saved.values, ...saved.state.map((w) => w.tensor)]);
    return result;
  };
  const expected = await run('cpu', () => makeAdam(ADAM));
  const stock = await run('cpu', () => tf.train.adam(ADAM.learningRate, ADAM.beta1, ADAM.beta2, ADAM.epsilon));
  assert.deepEqual(expected.names, stock.names, "the saved state has tf.train.adam's layout");
  const actual = await run(backend, () => makeAdam(ADAM));
  actual.values.forEach((v, i) => assert.ok(relativeError(v, expected.values[i]!) <= tolerance, `variable ${i}: ${relativeError(v, expected.values[i]!)}`));
  assert.deepEqual(actual.names, expected.names);
  actual.state.forEach((v, i) =>
    assert.ok(relativeError(v, expected.state[i]!) <= stateTolerance, `${expected.names[i]}: ${relativeError(v, expected.state[i]!)}`),
  );
}
