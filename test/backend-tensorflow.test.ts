// TensorFlow's fused training kernels under the tensorflow backend (src/backend/tensorflow-kernels.ts) against
// the pure-JS cpu backend, which runs tfjs-core's compositions: batch norm's training pass and its gradient,
// the ReLU and LeakyReLU gradients, the bce loss, Adam as TensorFlow's ResourceApplyAdam
// (src/backend/tensorflow-adam.ts), then a whole DCGAN training step and the gradients of both losses.
// Skips when tfjs-node is not built (npm run setup:tensorflow); CI builds it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../src/backend/select.ts';
import { sigmoidCrossEntropyMean } from '../src/backend/fused-kernels.ts';
import { FusedBatchNorm } from '../src/model/layers.ts';
import { makeAdam } from '../src/train/step.ts';
import { LESSON_ADAM } from './parity/fixtures.ts';
import {
  assertAdamMatchesCpu,
  assertBatchNormMatchesCpu,
  assertGradientsMatchCpu,
  assertLossMatchesCpu,
  assertStepMatchesCpu,
  BATCH_NORM_CASES,
  train,
} from './support/backend-parity.ts';
import { normals, relativeError } from './support/numeric.ts';
import { needsBackend } from './support/requirements.ts';

const skip = await needsBackend('tensorflow', 'tfjs-node not built: run npm run setup:tensorflow');
const TOLERANCE = 1e-5;

type Backend = 'cpu' | 'tensorflow';

for (const c of BATCH_NORM_CASES) {
  test(`batch norm in training mode on tensorflow (FusedBatchNormV3) matches cpu: ${c.name}`, { skip }, async (t) => {
    t.diagnostic(await assertBatchNormMatchesCpu('tensorflow', c, TOLERANCE));
  });
}

test("batch norm on tensorflow runs the fused kernel pair, and ReLU / LeakyReLU gradients run TensorFlow's own", { skip }, async () => {
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

for (const [name, activation] of [
  ['relu', (x: tf.Tensor) => tf.relu(x)],
  ['leakyRelu 0.2', (x: tf.Tensor) => tf.leakyRelu(x, 0.2)],
] as const) {
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

test("the bce loss on tensorflow (Softplus and Mean, Sigmoid for the gradient) matches tfjs-core's on cpu, large logits included", { skip }, async () => {
  await assertLossMatchesCpu('tensorflow', 1e-6);
});

test("BiasCorrectedAdam on tensorflow (ResourceApplyAdam) gives its cpu path's values and tf.train.adam's saved state, across a resume", { skip }, async () => {
  // The op's second moment averages with 1 - beta2 in float32, 1.3e-5 below 0.001 (src/backend/tensorflow-adam.ts
  // corrects its bias for it): the saved v differs by that much, the updates do not.
  await assertAdamMatchesCpu('tensorflow', 1e-6, 2e-5);
});

test('an Adam optimizer that has updated on tensorflow refuses to go on on another backend', { skip }, async () => {
  await useBackend('tensorflow');
  const weight = tf.variable(tf.tensor1d([1, 2, 3]), true, `adam_switch_${Math.random()}`);
  const optimizer = makeAdam(LESSON_ADAM);
  const update = () => optimizer.applyGradients([{ name: weight.name, tensor: tf.ones([3]) }]);
  update();
  await useBackend('cpu');
  assert.throws(update, { message: 'this Adam optimizer updates on the tensorflow backend and cannot go on on cpu' });
  await useBackend('tensorflow');
  optimizer.dispose();
  weight.dispose();
});

test('the loss and Adam on tensorflow run as TensorFlow ops, not as tfjs-core compositions', { skip }, async () => {
  await useBackend('tensorflow');
  const weight = tf.variable(tf.tensor2d(normals(12, 9), [3, 4]), true, `adam_kernels_${Math.random()}`);
  const optimizer = makeAdam(LESSON_ADAM);
  const step = () => {
    optimizer.minimize(() => sigmoidCrossEntropyMean(weight, 1), false, [weight]);
  };
  step(); // creates the moments
  const before = weight.dataSync().slice();
  const profile = await tf.profile(step);
  // The copy of the loss's input saved for its gradient, the loss, the gradient, and tfjs-core's beta^t bookkeeping: Adam's
  // update itself is no tfjs kernel (tfjs-core's composition would add Sqrt, RealDiv, Add, Sub and more).
  const kernels = profile.kernels.map((k) => k.name);
  assert.deepEqual(kernels, ['Identity', 'dcgan/SigmoidCrossEntropyMean', 'dcgan/SigmoidCrossEntropyMeanGrad', 'Multiply', 'Multiply']);
  assert.ok(relativeError(weight.dataSync(), before) > 1e-4, 'the weight did not move');
  optimizer.dispose();
  weight.dispose();
});

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
