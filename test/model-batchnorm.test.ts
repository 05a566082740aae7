// How TF.js 4.22's BatchNormalization behaves in the built models, which the trainer relies on:
// moving statistics are updated eagerly by every forward pass with {training: true} (wherever it runs:
// plain, in tf.tidy, in tf.grad / variableGrads, in optimizer.minimize) and by nothing else; the update
// is moving = momentum * moving + (1 - momentum) * batch statistic, with the BIASED batch variance
// (PyTorch uses the unbiased one for running_var; see test/model-parity.test.ts).
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { buildGenerator } from '../src/model/build.ts';
import { lessonModel } from './parity/fixtures.ts';

const model = lessonModel({ latentDim: 6, imageSize: 8, generator: { blocks: 1, baseChannels: 5 } });
const z = tf.randomNormal([3, 6], 0, 1, 'float32', 11);

function movingStats(G: tf.LayersModel): [number[], number[]] {
  const [, , mean, variance] = G.getLayer('g_block1_bn').getWeights();
  return [Array.from(mean.dataSync()), Array.from(variance.dataSync())];
}

function assertClose(actual: number[], expected: number[], what: string) {
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-6, `${what}[${i}]: ${v} vs ${expected[i]}`));
}

describe('batch normalization in training mode (TF.js semantics)', () => {
  let G: tf.LayersModel;
  beforeEach(() => {
    G = buildGenerator(model, 3, 1);
  });

  it('apply(x, {training: true}) uses batch statistics and updates the moving ones with the biased variance', () => {
    const convOut = tf.model({ inputs: G.inputs, outputs: G.getLayer('g_block1_convT').output as tf.SymbolicTensor });
    const { mean, variance } = tf.moments(convOut.predict(z) as tf.Tensor, [0, 1, 2]);
    const batchMean = Array.from(mean.dataSync());
    const batchVar = Array.from(variance.dataSync()); // tf.moments: biased (divides by n)
    const n = 3 * 4 * 4;

    const evalOut = G.predict(z) as tf.Tensor;
    const trainOut = G.apply(z, { training: true }) as tf.Tensor;
    assert.ok(tf.max(tf.abs(tf.sub(evalOut, trainOut))).dataSync()[0] > 1e-3, 'training mode should use batch statistics');

    const [movingMean, movingVar] = movingStats(G);
    assertClose(
      movingMean,
      batchMean.map((m) => 0.1 * m),
      'moving mean',
    );
    assertClose(
      movingVar,
      batchVar.map((v) => 0.9 + 0.1 * v),
      'moving variance (biased)',
    );
    const unbiased = batchVar.map((v) => 0.9 + 0.1 * v * (n / (n - 1)));
    assert.ok(
      movingVar.some((v, i) => Math.abs(v - unbiased[i]) > 1e-6),
      'expected the biased, not the unbiased, variance',
    );
  });

  it('updates inside tf.tidy, tf.grad, tf.variableGrads and optimizer.minimize: once per forward', () => {
    const forward = () => tf.mean(G.apply(z, { training: true }) as tf.Tensor) as tf.Scalar;
    const updated = (step: () => void) => {
      const before = movingStats(G)[0];
      step();
      return movingStats(G)[0].some((v, i) => v !== before[i]);
    };
    assert.ok(
      updated(() => tf.tidy(() => void forward())),
      'tf.tidy',
    );
    const gradZ = tf.grad((input: tf.Tensor) => tf.mean(G.apply(input, { training: true }) as tf.Tensor));
    assert.ok(
      updated(() => tf.tidy(() => void gradZ(z))),
      'tf.grad',
    );
    assert.ok(
      updated(() => tf.tidy(() => void tf.variableGrads(forward))),
      'tf.variableGrads',
    );
    const optimizer = tf.train.adam(2e-4, 0.5);
    const varList = G.trainableWeights.map((w) => w.read() as tf.Variable);
    assert.ok(
      updated(() => optimizer.minimize(forward, false, varList)),
      'optimizer.minimize',
    );

    // Exactly one update per forward: with the weights fixed, two tidy'd forwards equal two EMA steps.
    const G2 = buildGenerator(model, 3, 1);
    const convOut = tf.model({ inputs: G2.inputs, outputs: G2.getLayer('g_block1_convT').output as tf.SymbolicTensor });
    const batchMean = Array.from(tf.moments(convOut.predict(z) as tf.Tensor, [0, 1, 2]).mean.dataSync());
    tf.tidy(() => void G2.apply(z, { training: true }));
    tf.tidy(() => void tf.variableGrads(() => tf.mean(G2.apply(z, { training: true }) as tf.Tensor) as tf.Scalar));
    assertClose(
      movingStats(G2)[0],
      batchMean.map((m) => (1 - 0.9 ** 2) * m),
      'moving mean after two forwards',
    );
  });

  it('no update from predict, apply without training or with training: false; no tensor leak in tidy', () => {
    tf.tidy(() => void G.apply(z, { training: true }));
    const before = movingStats(G);
    tf.tidy(() => {
      G.predict(z);
      G.apply(z);
      G.apply(z, { training: false });
    });
    assert.deepEqual(movingStats(G), before);
    const count = tf.memory().numTensors;
    tf.tidy(() => void G.apply(z, { training: true }));
    assert.equal(tf.memory().numTensors, count);
  });
});

it("the fused batch norm gives the stock layer's values, gradients and moving averages", async () => {
  const { FusedBatchNorm } = await import('../src/model/layers.ts');
  const args = {
    momentum: 0.9,
    epsilon: 0.8,
    gammaInitializer: tf.initializers.randomNormal({ mean: 1, stddev: 0.3, seed: 1 }),
    betaInitializer: tf.initializers.randomNormal({ mean: 0, stddev: 0.3, seed: 2 }),
  };
  // The stock class, taken from the layer tfjs-layers builds (the registry now maps its name to ours).
  const Stock = Object.getPrototypeOf(Object.getPrototypeOf(new FusedBatchNorm({}))).constructor as new (a: typeof args) => tf.layers.Layer;
  const stock = new Stock(args);
  const fused = new FusedBatchNorm(args);
  const x = tf.randomNormal([8, 5, 5, 6], 0.3, 2, 'float32', 3);
  const w = tf.randomNormal([8, 5, 5, 6], 0, 1, 'float32', 4);
  const results = [stock, fused].map((layer) => {
    layer.build(x.shape);
    const objective = (input: tf.Tensor) => tf.sum(tf.mul(layer.apply(input, { training: true }) as tf.Tensor, w)) as tf.Scalar;
    const { value, grads } = tf.variableGrads(
      () => objective(x),
      layer.trainableWeights.map((v) => v.read() as tf.Variable),
    );
    return { value, grads: Object.values(grads), dx: tf.grad(objective)(x), weights: layer.getWeights() };
  });
  const worst = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
  const [s, f] = results;
  assert.ok(worst(s.value, f.value) < 1e-4);
  s.grads.forEach((g, i) => assert.ok(worst(g, f.grads[i]) < 1e-4, 'gamma and beta gradients'));
  assert.ok(worst(s.dx, f.dx) < 1e-5, `input gradient differs by ${worst(s.dx, f.dx)}`);
  // Two training calls each: both updated the moving mean and variance the same way.
  s.weights.forEach((v, i) => assert.ok(worst(v, f.weights[i]) < 1e-6, `weight ${i}`));
  assert.ok(worst(stock.apply(x) as tf.Tensor, fused.apply(x) as tf.Tensor) < 1e-5, 'inference mode');
});
