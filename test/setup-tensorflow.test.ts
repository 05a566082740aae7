// Checks the locally built tfjs-node addon (npm run setup:tensorflow) against the pure-JS cpu backend
// on DCGAN-shaped convolutions and their gradients. Skips when the addon is not built.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { needs } from './support/requirements.ts';

const SKIP = 'tfjs-node not built: run npm run setup:tensorflow';
// A string variable keeps tsc from requiring the optional package to be installed.
const tfjsNode: string = '@tensorflow/tfjs-node';
const built = await import(tfjsNode).then(
  () => true,
  () => false,
);
const skip = needs('tensorflow', built ? false : SKIP);

type Op = (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D;
interface Case {
  name: string;
  x: [number, number, number, number];
  w: [number, number, number, number];
  op: Op;
}

const B = 8;
const cases: Case[] = [
  { name: 'D conv 16x16x3 -> 8x8x16', x: [B, 16, 16, 3], w: [4, 4, 3, 16], op: (x, w) => tf.conv2d(x, w, 2, 'same') },
  { name: 'D conv 8x8x16 -> 4x4x32', x: [B, 8, 8, 16], w: [4, 4, 16, 32], op: (x, w) => tf.conv2d(x, w, 2, 'same') },
  // conv2dTranspose filters are [h, w, outChannels, inChannels].
  { name: 'G deconv 1x1x100 -> 4x4x32 valid', x: [B, 1, 1, 100], w: [4, 4, 32, 100], op: (x, w) => tf.conv2dTranspose(x, w, [B, 4, 4, 32], 1, 'valid') },
  { name: 'G deconv 4x4x32 -> 8x8x16', x: [B, 4, 4, 32], w: [4, 4, 16, 32], op: (x, w) => tf.conv2dTranspose(x, w, [B, 8, 8, 16], 2, 'same') },
  { name: 'G deconv 8x8x16 -> 16x16x3', x: [B, 8, 8, 16], w: [4, 4, 3, 16], op: (x, w) => tf.conv2dTranspose(x, w, [B, 16, 16, 3], 2, 'same') },
];

/** Output, dL/dx and dL/dw for a fixed upstream gradient, computed on `backend` from the same raw inputs. */
async function run(backend: string, c: Case, x: Float32Array, w: Float32Array, dy: Float32Array): Promise<Float32Array[]> {
  assert.equal(await tf.setBackend(backend), true);
  return tf.tidy(() => {
    const xt = tf.tensor4d(x, c.x);
    const wt = tf.tensor4d(w, c.w);
    const y = c.op(xt, wt);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => c.op(a as tf.Tensor4D, b as tf.Tensor4D))([xt, wt], tf.tensor(dy, y.shape));
    return [y, dx!, dw!].map((t) => t.dataSync() as Float32Array);
  });
}

/** max |a - b| relative to the largest magnitude in b (elementwise relative error is meaningless near 0). */
function relErr(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

test("tfjs-node registers the tensorflow backend on the project's @tensorflow/tfjs", { skip }, async () => {
  assert.equal(await tf.setBackend('tensorflow'), true);
  assert.equal(tf.getBackend(), 'tensorflow');
  const binding = (tf.backend() as unknown as { binding: { TF_Version: string } }).binding;
  assert.match(binding.TF_Version, /^2\./);
});

for (const [i, c] of cases.entries()) {
  test(`tensorflow matches cpu: ${c.name} (output and gradients)`, { skip }, async () => {
    const [x, w] = [c.x, c.w].map((shape, k) => tf.randomNormal(shape, 0, 1, 'float32', 100 * i + k).dataSync() as Float32Array);
    const yShape = tf.tidy(() => c.op(tf.zeros(c.x), tf.zeros(c.w)).shape);
    const dy = tf.randomNormal(yShape, 0, 1, 'float32', 100 * i + 2).dataSync() as Float32Array;

    const native = await run('tensorflow', c, x!, w!, dy);
    const reference = await run('cpu', c, x!, w!, dy);
    for (const [k, label] of ['y', 'dx', 'dw'].entries()) {
      const err = relErr(native[k]!, reference[k]!);
      assert.ok(err <= 1e-4, `${label}: relative error ${err.toExponential(2)} > 1e-4`);
    }
  });
}
