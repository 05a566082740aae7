// The wasm backend's extra kernels (src/backend/wasm-kernels.ts) against the pure-JS cpu backend: every
// registered kernel on seeded random inputs of DCGAN shapes and awkward ones, then one whole DCGAN training
// step (the trainer's own trainStep) from identical weights, then tensor leaks over repeated steps.
//
// "Relative error" is max |actual - expected| / max |expected| over a tensor: elementwise relative error is
// meaningless where the expected value is near zero.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { availableParallelism } from 'node:os';
import { useBackend } from '../src/backend/select.ts';
import { wasmThreads } from '../src/backend/wasm-threads.ts';
import { WASM_GRADIENT_KERNELS, type WasmGradientKernel } from '../src/backend/wasm-kernels.ts';
import { normals, relativeError, size } from './support/numeric.ts';
import { assertGradientsMatchCpu, assertStepMatchesCpu, train } from './support/backend-parity.ts';

const TOLERANCE = 1e-4;

type Shape4 = [number, number, number, number];
type Backend = 'cpu' | 'wasm';

// ---------------------------------------------------------------------------------------------------------
// Kernel by kernel

interface Input {
  shape: number[];
  dtype?: 'float32' | 'int32' | 'bool';
  data: Float32Array | Int32Array | Uint8Array;
}

interface KernelCase {
  name: string;
  inputs: Record<string, Input>;
  attrs: Record<string, unknown>;
}

interface Result {
  shape: number[];
  dtype: string;
  data: Float32Array | Int32Array | Uint8Array;
}

/** Runs one kernel on `backend` from the raw inputs; every tensor it makes is disposed before returning. */
async function runKernel(backend: Backend, kernelName: string, c: KernelCase): Promise<Result> {
  await useBackend(backend);
  const inputs: Record<string, tf.Tensor> = {};
  for (const [name, input] of Object.entries(c.inputs)) inputs[name] = tf.tensor(input.data, input.shape, input.dtype ?? 'float32');
  try {
    const out = tf.engine().runKernel(kernelName, inputs, c.attrs as tf.NamedAttrMap) as tf.Tensor;
    const result = { shape: out.shape, dtype: out.dtype, data: out.dataSync() as Result['data'] };
    out.dispose();
    return result;
  } finally {
    tf.dispose(Object.values(inputs));
  }
}

interface ConvCase {
  name: string;
  x: Shape4;
  filter: Shape4;
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
}

/** NHWC convolutions as conv2d sees them (x -> dy); a transposed convolution is the same triple run backwards. */
const CONVS: ConvCase[] = [
  { name: 'D k4 s2 same [4,16,16,3] -> [4,8,8,8]', x: [4, 16, 16, 3], filter: [4, 4, 3, 8], strides: 2, pad: 'same' },
  { name: 'D k4 s2 same [4,8,8,8] -> [4,4,4,16]', x: [4, 8, 8, 8], filter: [4, 4, 8, 16], strides: 2, pad: 'same' },
  // G's first block, conv2dTranspose k4 s1 'valid' from 1x1 to 4x4 (and D's last conv, 4x4 -> 1x1).
  { name: 'G k4 s1 valid [4,1,1,10] -> [4,4,4,16]', x: [4, 4, 4, 16], filter: [4, 4, 16, 10], strides: 1, pad: 'valid' },
  { name: 'odd rectangular k3x2 strides [2,1] same', x: [3, 7, 5, 3], filter: [3, 2, 3, 5], strides: [2, 1], pad: 'same' },
  {
    name: 'explicit asymmetric padding, strides [2,3]',
    x: [2, 9, 6, 4],
    filter: [3, 3, 4, 6],
    strides: [2, 3],
    pad: [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0],
    ],
  },
  { name: 'numeric padding 1, stride 2, odd side', x: [2, 9, 7, 4], filter: [3, 3, 4, 6], strides: 2, pad: 1 },
  { name: 'pointwise 1x1 valid', x: [2, 5, 6, 4], filter: [1, 1, 4, 6], strides: 1, pad: 'valid' },
  // 3 * 23 * 17 = 1173 patch rows: Conv2DBackpropFilter sums two chunks of 1024 rows, the last one partial.
  { name: 'many rows k3 s1 same [3,23,17,5]', x: [3, 23, 17, 5], filter: [3, 3, 5, 7], strides: 1, pad: 'same' },
];

function convOutShape(c: ConvCase): Shape4 {
  // The cpu backend is the reference for shapes too.
  const info = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, 1, c.pad);
  return info.outShape as Shape4;
}

function convKernelCases(kernel: 'Conv2DBackpropFilter' | 'Conv2DBackpropInput'): KernelCase[] {
  return CONVS.map((c, i): KernelCase => {
    const dyShape = convOutShape(c);
    const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
    const dy = { shape: dyShape, data: normals(size(dyShape), 300 + i) };
    return kernel === 'Conv2DBackpropFilter'
      ? { name: c.name, inputs: { x: { shape: c.x, data: normals(size(c.x), 100 + i) }, dy }, attrs: { ...attrs, filterShape: c.filter } }
      : { name: c.name, inputs: { dy, filter: { shape: c.filter, data: normals(size(c.filter), 200 + i, 0.02) } }, attrs: { ...attrs, inputShape: c.x } };
  });
}

const range = (n: number, dtype: 'float32' | 'int32' = 'float32') => (dtype === 'int32' ? Int32Array.from({ length: n }, (_, i) => i - 7) : normals(n, n));

const KERNEL_CASES: Record<WasmGradientKernel, KernelCase[]> = {
  Conv2DBackpropFilter: convKernelCases('Conv2DBackpropFilter'),
  Conv2DBackpropInput: convKernelCases('Conv2DBackpropInput'),
  Tile: [
    { name: "batch norm's [1,1,1,C] -> [N,H,W,C]", inputs: { x: { shape: [1, 1, 1, 8], data: range(8) } }, attrs: { reps: [4, 5, 3, 1] } },
    { name: 'every axis repeated, rank 3', inputs: { x: { shape: [2, 3, 4], data: range(24) } }, attrs: { reps: [3, 2, 2] } },
    { name: 'int32', inputs: { x: { shape: [2, 3], dtype: 'int32', data: range(6, 'int32') } }, attrs: { reps: [2, 3] } },
    { name: 'bool', inputs: { x: { shape: [3], dtype: 'bool', data: Uint8Array.from([1, 0, 1]) } }, attrs: { reps: [4] } },
    { name: 'no repeat', inputs: { x: { shape: [5, 1], data: range(5) } }, attrs: { reps: [1, 1] } },
  ],
  Sum: [
    { name: 'over N,H,W of NHWC', inputs: { x: { shape: [4, 6, 5, 8], data: range(960) } }, attrs: { axis: [0, 1, 2], keepDims: false } },
    {
      name: 'over N,H,W keepDims, axes unsorted and negative',
      inputs: { x: { shape: [3, 5, 7, 2], data: range(210) } },
      attrs: { axis: [1, -4, 2], keepDims: true },
    },
    { name: 'over the batch of [N,1]', inputs: { x: { shape: [7, 1], data: range(7) } }, attrs: { axis: 0, keepDims: false } },
    { name: 'inner axis (backend kernel)', inputs: { x: { shape: [4, 6, 5], data: range(120) } }, attrs: { axis: [2], keepDims: false } },
    { name: 'middle axes (backend kernel)', inputs: { x: { shape: [4, 6, 5, 3], data: range(360) } }, attrs: { axis: [1, 2], keepDims: false } },
    { name: 'int32 (backend kernel)', inputs: { x: { shape: [4, 3], dtype: 'int32', data: range(12, 'int32') } }, attrs: { axis: 0, keepDims: false } },
  ],
  Mean: [
    { name: 'over N,H,W of NHWC (batch-norm moments)', inputs: { x: { shape: [4, 6, 5, 8], data: range(960) } }, attrs: { axis: [0, 1, 2], keepDims: true } },
    {
      name: 'over the batch, 9 rows (not a multiple of the unrolling)',
      inputs: { x: { shape: [9, 3], data: range(27) } },
      attrs: { axis: 0, keepDims: false },
    },
    { name: 'all axes (backend kernel)', inputs: { x: { shape: [3, 4], data: range(12) } }, attrs: { axis: [0, 1], keepDims: false } },
  ],
};

for (const kernel of WASM_GRADIENT_KERNELS) {
  test(`${kernel} is registered for the wasm backend`, async () => {
    await useBackend('wasm');
    assert.ok(tf.getKernel(kernel, 'wasm'), `${kernel} has no wasm kernel`);
  });
  for (const c of KERNEL_CASES[kernel]) {
    test(`${kernel} on wasm matches cpu: ${c.name}`, async (t) => {
      const expected = await runKernel('cpu', kernel, c);
      const actual = await runKernel('wasm', kernel, c);
      assert.deepEqual(actual.shape, expected.shape);
      assert.equal(actual.dtype, expected.dtype);
      const err = relativeError(actual.data, expected.data);
      t.diagnostic(`relative error ${err.toExponential(2)}`);
      assert.ok(err <= TOLERANCE, `relative error ${err.toExponential(2)} > ${TOLERANCE}`);
    });
  }
}

test('conv2dTranspose and its gradients through the public ops match cpu (DCGAN 16x16 shapes)', async (t) => {
  const x = normals(4 * 8 * 8 * 8, 11);
  const w = normals(4 * 4 * 3 * 8, 12, 0.02);
  const dyData = normals(4 * 16 * 16 * 3, 13);
  const run = async (backend: Backend) => {
    await useBackend(backend);
    return tf.tidy(() => {
      const xt = tf.tensor4d(x, [4, 8, 8, 8]);
      const wt = tf.tensor4d(w, [4, 4, 3, 8]);
      const f = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.conv2dTranspose(a, b, [4, 16, 16, 3], 2, 'same');
      const y = f(xt, wt);
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.mul(f(a as tf.Tensor4D, b as tf.Tensor4D), tf.tensor4d(dyData, [4, 16, 16, 3])).sum())([
        xt,
        wt,
      ]);
      return [y, dx, dw].map((t) => t.dataSync().slice());
    });
  };
  const expected = await run('cpu');
  const actual = await run('wasm');
  ['y', 'dx', 'dw'].forEach((name, i) => {
    const err = relativeError(actual[i], expected[i]);
    t.diagnostic(`${name}: relative error ${err.toExponential(2)}`);
    assert.ok(err <= TOLERANCE, `${name}: relative error ${err.toExponential(2)}`);
  });
});

test('Conv2DBackpropInput with NCHW falls back to the backend kernel and matches cpu', async () => {
  const c: KernelCase = {
    name: 'NCHW',
    inputs: { dy: { shape: [2, 6, 4, 4], data: normals(192, 21) }, filter: { shape: [4, 4, 3, 6], data: normals(288, 22, 0.02) } },
    attrs: { strides: 2, pad: 'same', dataFormat: 'NCHW', inputShape: [2, 3, 8, 8] },
  };
  const expected = await runKernel('cpu', 'Conv2DBackpropInput', c);
  const actual = await runKernel('wasm', 'Conv2DBackpropInput', c);
  assert.deepEqual(actual.shape, expected.shape);
  assert.ok(relativeError(actual.data, expected.data) <= TOLERANCE);
});

test('unsupported convolution settings fail with a clear message', async () => {
  const x = { shape: [1, 8, 8, 2], data: normals(128, 31) };
  const dy = { shape: [1, 4, 4, 3], data: normals(48, 32) };
  const base = { strides: 2, pad: 'same', filterShape: [3, 3, 2, 3] };
  await assert.rejects(
    runKernel('wasm', 'Conv2DBackpropFilter', { name: 'dilated', inputs: { x, dy }, attrs: { ...base, dataFormat: 'NHWC', dilations: [2, 2] } }),
    /supports only dilations 1/,
  );
  await assert.rejects(
    runKernel('wasm', 'Conv2DBackpropFilter', {
      name: 'NCHW',
      inputs: { x: { shape: [1, 2, 8, 8], data: x.data }, dy: { shape: [1, 3, 4, 4], data: dy.data } },
      attrs: { ...base, dataFormat: 'NCHW' },
    }),
    /supports only dataFormat 'NHWC'/,
  );
});

// ---------------------------------------------------------------------------------------------------------
// Convolutions shared with the helper threads (src/backend/wasm-threads.ts): big enough to be split, odd
// batches included, each against cpu; and the helpers really took part.

const SPLIT_CONVS: ConvCase[] = [
  { name: 'split: D k4 s2 same [4,32,32,32] -> [4,16,16,64]', x: [4, 32, 32, 32], filter: [4, 4, 32, 64], strides: 2, pad: 'same' },
  { name: 'split: odd batch 3, [3,32,32,48] -> [3,16,16,40]', x: [3, 32, 32, 48], filter: [4, 4, 48, 40], strides: 2, pad: 'same' },
];

test('the wasm backend starts a helper thread per extra core', async () => {
  await useBackend('wasm');
  assert.equal(wasmThreads().helpers, availableParallelism() - 1);
});

for (const c of SPLIT_CONVS) {
  const dyShape = () => convOutShape(c);
  const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
  const x = { shape: c.x, data: normals(size(c.x), 51) };
  const filter = { shape: c.filter, data: normals(size(c.filter), 52, 0.02) };
  const cases: [string, () => KernelCase][] = [
    ['Conv2D', () => ({ name: c.name, inputs: { x, filter }, attrs: { ...attrs, dilations: 1 } })],
    ['FusedConv2D', () => ({ name: c.name, inputs: { x, filter }, attrs: { ...attrs, dilations: 1, activation: 'linear' } })],
    [
      'Conv2DBackpropInput',
      () => ({ name: c.name, inputs: { dy: { shape: dyShape(), data: normals(size(dyShape()), 53) }, filter }, attrs: { ...attrs, inputShape: c.x } }),
    ],
    [
      'Conv2DBackpropFilter',
      () => ({ name: c.name, inputs: { x, dy: { shape: dyShape(), data: normals(size(dyShape()), 53) } }, attrs: { ...attrs, filterShape: c.filter } }),
    ],
  ];
  for (const [kernel, make] of cases) {
    test(
      `${kernel} shared with the helper threads matches cpu: ${c.name}`,
      { skip: availableParallelism() < 2 && 'one core: no helper threads' },
      async (t) => {
        const kernelCase = make();
        // The cpu backend has no FusedConv2D kernel of its own for this check: Conv2D is the same product.
        const expected = await runKernel('cpu', kernel === 'FusedConv2D' ? 'Conv2D' : kernel, kernelCase);
        const before = wasmThreads().splits;
        const actual = await runKernel('wasm', kernel, kernelCase);
        assert.equal(wasmThreads().splits, before + 1, 'the kernel was not split');
        assert.deepEqual(actual.shape, expected.shape);
        const err = relativeError(actual.data, expected.data);
        t.diagnostic(`relative error ${err.toExponential(2)}`);
        assert.ok(err <= TOLERANCE, `relative error ${err.toExponential(2)}`);
      },
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// A whole training step

test('a DCGAN training step on wasm matches cpu: losses and every updated weight', async (t) => {
  t.diagnostic(await assertStepMatchesCpu('wasm', TOLERANCE));
});

test('gradients of both DCGAN losses on wasm match cpu', async (t) => {
  t.diagnostic(await assertGradientsMatchCpu('wasm', TOLERANCE));
});

test('training on wasm leaks no tensors or wasm buffers across steps', async () => {
  const { numTensors, numDataIds, losses } = await train('wasm', 4);
  for (const l of losses) assert.ok(l.every(Number.isFinite), `non-finite metrics ${l}`);
  // Step 1 creates Adam's moment slots; from then on the counts must not grow.
  assert.deepEqual(numTensors.slice(1), Array(3).fill(numTensors[1]), `tensors per step: ${numTensors}`);
  assert.deepEqual(numDataIds.slice(1), Array(3).fill(numDataIds[1]), `wasm data buffers per step: ${numDataIds}`);
});

test('the registered kernels leave no wasm buffers behind', async () => {
  await useBackend('wasm');
  const before = tf.engine().backend.numDataIds();
  for (const kernel of WASM_GRADIENT_KERNELS) {
    for (const c of KERNEL_CASES[kernel]) await runKernel('wasm', kernel, c);
  }
  assert.equal(tf.engine().backend.numDataIds(), before);
});
