// TensorFlow's fused training kernels under the tensorflow backend (src/backend/tensorflow-kernels.ts) against
// the pure-JS cpu backend, which runs tfjs-core's compositions: batch norm's training pass and its gradient,
// the ReLU and LeakyReLU gradients, then a whole DCGAN training step and the gradients of both losses.
// Skips when tfjs-node is not built (npm run setup:tensorflow); CI builds it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { availableBackends, useBackend } from '../src/backend/select.ts';
import { FusedBatchNorm } from '../src/model/layers.ts';
import { assertGradientsMatchCpu, assertStepMatchesCpu, train } from './support/backend-parity.ts';
import { normals, relativeError } from './support/numeric.ts';

const skip = (await availableBackends()).includes('tensorflow') ? false : 'tfjs-node not built: run npm run setup:tensorflow';
const TOLERANCE = 1e-5;

type Backend = 'cpu' | 'tensorflow';

/** Output and gradients (input, gamma, beta), then the moving mean and variance after the call, for one layer call in training mode. */
async function batchNorm(backend: Backend, shape: [number, number, number, number], epsilon: number): Promise<Record<string, Float32Array>> {
  await useBackend(backend);
  const layer = new FusedBatchNorm({
    momentum: 0.9,
    epsilon,
    gammaInitializer: tf.initializers.randomNormal({ mean: 1, stddev: 0.3, seed: 1 }),
    betaInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 0.3, seed: 2 }),
  });
  const size = shape.reduce((a, b) => a * b);
  const x = tf.tensor4d(normals(size, 3).map((v) => 0.3 + 2 * v), shape);
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
  const out = Object.fromEntries(
    Object.entries({ ...result, movingMean: movingMean!, movingVariance: movingVariance! }).map(([k, t]) => [k, t.dataSync().slice() as Float32Array]),
  );
  tf.dispose([x, w, ...Object.values(result)]);
  for (const weight of layer.weights) weight.dispose();
  return out;
}

const BATCH_NORM_CASES: { name: string; shape: [number, number, number, number]; epsilon: number }[] = [
  { name: "the lesson's epsilon 0.8, D's [8,16,16,64]", shape: [8, 16, 16, 64], epsilon: 0.8 },
  { name: 'epsilon 1e-5, odd sizes [3,5,7,6]', shape: [3, 5, 7, 6], epsilon: 1e-5 },
  // G's first block: one pixel per image, so the batch statistics come from 4 values per channel.
  { name: 'a 1x1 map, batch 4', shape: [4, 1, 1, 10], epsilon: 1e-3 },
];

for (const c of BATCH_NORM_CASES) {
  test(`batch norm in training mode on tensorflow (FusedBatchNormV3) matches cpu: ${c.name}`, { skip }, async (t) => {
    const expected = await batchNorm('cpu', c.shape, c.epsilon);
    const actual = await batchNorm('tensorflow', c.shape, c.epsilon);
    const errors = Object.keys(expected).map((k) => `${k} ${relativeError(actual[k]!, expected[k]!).toExponential(1)}`);
    t.diagnostic(errors.join(', '));
    for (const k of Object.keys(expected)) {
      const err = relativeError(actual[k]!, expected[k]!);
      assert.ok(err <= TOLERANCE, `${k}: relative error ${err.toExponential(2)}`);
    }
  });
}

test('batch norm on tensorflow runs the fused kernel pair, and ReLU / LeakyReLU gradients run TensorFlow\'s own', { skip }, async () => {
  await useBackend('tensorflow');
  const x = tf.randomNormal([2, 4, 4, 3], 0, 1, 'float32', 5);
  const layer = new FusedBatchNorm({});
  layer.build(x.shape);
  const profile = await tf.profile(() => {
    tf.tidy(() => {
      tf.grad((input: tf.Tensor) => tf.sum(layer.apply(input, { training: true }) as tf.Tensor))(x);
      tf.grad((input: tf.Tensor) => tf.sum(tf.relu(input)))(x);
      tf.grad((input: tf.Tensor) => tf.sum(tf.leakyRelu(input, 0.2)))(x);
    });
  });
  const kernels = profile.kernels.map((k) => k.name);
  for (const name of ['dcgan/FusedBatchNormTraining', 'dcgan/FusedBatchNormTrainingGrad', 'dcgan/ReluGrad', 'dcgan/LeakyReluGrad']) {
    assert.ok(kernels.includes(name), `${name} not run: ${kernels.join(' ')}`);
  }
  // tfjs-core's compositions are gone: no moments (Mean) and no Step / Select for the activations.
  for (const name of ['Mean', 'Step', 'Select']) assert.ok(!kernels.includes(name), `${name} still runs: ${kernels.join(' ')}`);
  tf.dispose(x);
  for (const weight of layer.weights) weight.dispose();
});

for (const [name, activation] of [['relu', (x: tf.Tensor) => tf.relu(x)], ['leakyRelu 0.2', (x: tf.Tensor) => tf.leakyRelu(x, 0.2)]] as const) {
  test(`the ${name} gradient on tensorflow matches cpu, zeros included`, { skip }, async () => {
    // Exact zeros take the "not positive" side in both: tfjs's step(0) = 0 and TensorFlow's features > 0.
    const values = Float32Array.from([...normals(60, 6), 0, -0, 0]);
    const dy = normals(63, 7);
    const run = async (backend: Backend) => {
      await useBackend(backend);
      return tf.tidy(() => tf.grad(activation)(tf.tensor1d(values), tf.tensor1d(dy)).dataSync().slice());
    };
    assert.deepEqual(await run('tensorflow'), await run('cpu'));
  });
}

test('a DCGAN training step on tensorflow matches cpu: losses and every updated weight', { skip }, async (t) => {
  t.diagnostic(await assertStepMatchesCpu('tensorflow', 1e-4));
});

test('gradients of both DCGAN losses on tensorflow match cpu', { skip }, async (t) => {
  t.diagnostic(await assertGradientsMatchCpu('tensorflow', 1e-4));
});

test('training on tensorflow leaks no tensors across steps', { skip }, async () => {
  const { numTensors, losses } = await train('tensorflow', 4);
  for (const l of losses) assert.ok(l.every(Number.isFinite), `non-finite metrics ${l}`);
  assert.deepEqual(numTensors.slice(1), Array(3).fill(numTensors[1]), `tensors per step: ${numTensors}`);
});
