// DiffAugment (src/train/augment.ts): each op on hand-computed inputs with explicit parameters, the whole
// pipeline and its gradient against a PyTorch transcription of the paper's code (test/parity/diff_augment.py),
// the analytic gradients, the paper's parameter ranges, determinism and resume, the probability blend, no
// leaked tensors, and cpu against tensorflow.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../src/backend/select.ts';
import { Rng } from '../src/random/rng.ts';
import {
  augment,
  type AugmentParams,
  type AugmentSettings,
  brightness,
  contrast,
  createAugmenter,
  cutout,
  cutoutSize,
  drawParams,
  saturation,
  translate,
  translationRange,
} from '../src/train/augment.ts';
import { type NamedTensor, runTorchScript, torchSkip } from './parity/exchange.ts';
import { normals, relativeError, size } from './support/numeric.ts';
import { needsBackend } from './support/requirements.ts';

const SCRIPT = fileURLToPath(new URL('./parity/diff_augment.py', import.meta.url));
const skipTensorflow = await needsBackend('tensorflow', 'tfjs-node not built: run npm run setup:tensorflow');

await useBackend('cpu');

const ALL: AugmentSettings = { policy: ['color', 'translation', 'cutout'], probability: 1 };

type Shape4 = [number, number, number, number];

const values = (run: () => tf.Tensor): Float32Array => tf.tidy(() => run().dataSync() as Float32Array);

/** d sum(f(x) * weights) / dx. */
function gradient(f: (x: tf.Tensor4D) => tf.Tensor4D, x: Float32Array, weights: Float32Array, shape: Shape4): Float32Array {
  return values(() =>
    tf.grad((input: tf.Tensor) =>
      f(input as tf.Tensor4D)
        .mul(tf.tensor4d(weights, shape))
        .sum(),
    )(tf.tensor4d(x, shape)),
  );
}

const offsets = (rows: number[], cols: number[]) => ({ rows: Int32Array.from(rows), cols: Int32Array.from(cols) });

describe('the ops on hand-computed inputs', () => {
  // Two images of 1x2 pixels, RGB; every expected value is exact in float32.
  const shape: Shape4 = [2, 1, 2, 3];
  const x = Float32Array.from([1, 0, -0.25, 0.5, 0.5, -1, /* image 2 */ 0, 0.5, 0.25, -1, -1, -1]);
  const run = (op: (x: tf.Tensor4D) => tf.Tensor4D) => values(() => op(tf.tensor4d(x, shape)));
  const close = (actual: Float32Array, expected: number[]) => assert.ok(relativeError(actual, expected) < 1e-7, `${actual} vs ${expected}`);

  test('brightness adds r - 0.5 to every value of an image', () => {
    close(
      run((t) => brightness(t, Float32Array.from([0.75, 0.25]))),
      [1.25, 0.25, 0, 0.75, 0.75, -0.75, -0.25, 0.25, 0, -1.25, -1.25, -1.25],
    );
  });

  test('saturation scales each pixel about its mean over channels by 2r; on one channel it is the identity', () => {
    // Pixel means 0.25 and 0 (factor 0.5), 0.25 and -1 (factor 2).
    close(
      run((t) => saturation(t, Float32Array.from([0.25, 1]))),
      [0.625, 0.125, 0, 0.25, 0.25, -0.5, -0.25, 0.75, 0.25, -1, -1, -1],
    );
    const gray = normals(2 * 3 * 3, 1);
    assert.deepEqual(
      values(() => saturation(tf.tensor4d(gray, [2, 3, 3, 1]), Float32Array.from([0.1, 0.9]))),
      gray,
    );
  });

  test('contrast scales each image about its mean by r + 0.5', () => {
    // Image means 0.125 (factor 1: unchanged) and -0.375 (factor 0.5).
    close(
      run((t) => contrast(t, Float32Array.from([0.5, 0]))),
      [1, 0, -0.25, 0.5, 0.5, -1, -0.1875, 0.0625, -0.0625, -0.6875, -0.6875, -0.6875],
    );
  });

  test('translation: output pixel (i, j) is input (i + rows, j + cols), zeros past the edge, every channel alike', () => {
    // Two 3x4 images with values 1..12 in channel 0 and their negatives in channel 1.
    const grid = Array.from({ length: 12 }, (_, k) => [k + 1, -(k + 1)]).flat();
    const out = values(() => translate(tf.tensor4d([...grid, ...grid], [2, 3, 4, 2]), offsets([1, -2], [-1, 2])));
    const channel = (c: number) => Array.from({ length: 24 }, (_, k) => out[2 * k + c]);
    const expected = [0, 5, 6, 7, 0, 9, 10, 11, 0, 0, 0, 0, /* image 2 */ 0, 0, 0, 0, 0, 0, 0, 0, 3, 4, 0, 0];
    assert.deepEqual(channel(0), expected);
    assert.deepEqual(
      channel(1),
      expected.map((v) => (v ? -v : 0)),
    ); // the fill is +0, as the paper's zero padding
  });

  test('cutout zeroes a half-side square from centre - size // 2, clamped to the image as the paper does', () => {
    // 4x4: size 2. Centre (1, 3): rows 0-1, columns 2-3. Centre (4, 0): rows 3..4 and columns -1..0 clamp to (3, 0).
    const square = values(() => cutout(tf.ones([2, 4, 4, 2]) as tf.Tensor4D, offsets([1, 4], [3, 0])));
    const first = (image: number) => Array.from({ length: 16 }, (_, k) => square[(image * 16 + k) * 2]);
    assert.deepEqual(first(0), [1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]);
    assert.deepEqual(first(1), [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1]);
    assert.deepEqual(
      Array.from({ length: 32 }, (_, k) => square[2 * k + 1]),
      [...first(0), ...first(1)],
    );
    // 5x3, sizes 3 and 2 (int(2.5 + 0.5), int(1.5 + 0.5)): centre (0, 1) covers rows -1..1 -> 0-1 and columns 0-1.
    assert.deepEqual(Array.from(values(() => cutout(tf.ones([1, 5, 3, 1]) as tf.Tensor4D, offsets([0], [1])))), [0, 0, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
  });
});

test("parameters are drawn over the paper's ranges: int(side / 8 + 0.5) shifts, int(side / 2 + 0.5) cutouts", () => {
  assert.deepEqual([64, 28, 16, 10, 14, 3].map(translationRange), [8, 4, 2, 1, 2, 0]);
  assert.deepEqual([64, 28, 16, 10, 14, 3].map(cutoutSize), [32, 14, 8, 5, 7, 2]);
  const rng = new Rng(3);
  const seen = { rows: new Set<number>(), cols: new Set<number>(), centreRows: new Set<number>(), centreCols: new Set<number>() };
  let low = 1;
  let high = 0;
  for (let i = 0; i < 50; i++) {
    const p = drawParams(rng, ALL, [64, 10, 16]); // rows: s 1, cutout 5 (odd); columns: s 2, cutout 8 (even)
    p.translation!.rows.forEach((v) => seen.rows.add(v));
    p.translation!.cols.forEach((v) => seen.cols.add(v));
    p.cutout!.rows.forEach((v) => seen.centreRows.add(v));
    p.cutout!.cols.forEach((v) => seen.centreCols.add(v));
    for (const r of [...p.color!.brightness, ...p.color!.saturation, ...p.color!.contrast]) [low, high] = [Math.min(low, r), Math.max(high, r)];
  }
  const sorted = (s: Set<number>) => [...s].sort((a, b) => a - b);
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
  assert.deepEqual(sorted(seen.rows), range(-1, 2));
  assert.deepEqual(sorted(seen.cols), range(-2, 3));
  assert.deepEqual(sorted(seen.centreRows), range(0, 10)); // [0, side + 1 - size % 2)
  assert.deepEqual(sorted(seen.centreCols), range(0, 17));
  assert.ok(low >= 0 && low < 0.01 && high < 1 && high > 0.99, `uniforms in [${low}, ${high}]`);
});

describe('gradients', () => {
  const shape: Shape4 = [2, 3, 4, 2];
  const n = size(shape);
  const x = normals(n, 11, 0.5);
  const w = normals(n, 12);
  const r = Float32Array.from([0.2, 0.7]);
  const factor = (image: number, of: (v: number) => number) => of(r[image]);
  const imageOf = (k: number) => Math.floor(k / (n / 2));
  /** The mean of w over the `group` consecutive values that k belongs to. */
  const groupMean = (k: number, group: number) => {
    const start = k - (k % group);
    return w.slice(start, start + group).reduce((a, b) => a + b, 0) / group;
  };
  const close = (actual: Float32Array, expected: ArrayLike<number>) =>
    assert.ok(relativeError(actual, expected) < 1e-6, `${actual} vs ${Array.from(expected)}`);

  test('brightness passes the gradient through unchanged', () => {
    close(
      gradient((t) => brightness(t, r), x, w, shape),
      w,
    );
  });

  test("saturation: f * w + (1 - f) * mean of w over the pixel's channels", () => {
    close(
      gradient((t) => saturation(t, r), x, w, shape),
      Array.from(w, (v, k) => {
        const f = factor(imageOf(k), (u) => 2 * u);
        return f * v + (1 - f) * groupMean(k, 2);
      }),
    );
  });

  test('contrast: f * w + (1 - f) * mean of w over the image', () => {
    close(
      gradient((t) => contrast(t, r), x, w, shape),
      Array.from(w, (v, k) => {
        const f = factor(imageOf(k), (u) => u + 0.5);
        return f * v + (1 - f) * groupMean(k, n / 2);
      }),
    );
  });

  test("translation sends each output's gradient back to the pixel it came from; pixels shifted out get none", () => {
    const shift = offsets([1, -2], [-1, 3]);
    const [, h, wd, c] = shape;
    const expected = new Float32Array(n);
    for (let b = 0; b < 2; b++) {
      for (let i = 0; i < h; i++) {
        for (let j = 0; j < wd; j++) {
          // Input (i, j) lands on output (i - rows, j - cols).
          const [oi, oj] = [i - shift.rows[b], j - shift.cols[b]];
          if (oi < 0 || oi >= h || oj < 0 || oj >= wd) continue;
          for (let k = 0; k < c; k++) expected[((b * h + i) * wd + j) * c + k] = w[((b * h + oi) * wd + oj) * c + k];
        }
      }
    }
    assert.deepEqual(
      gradient((t) => translate(t, shift), x, w, shape),
      expected,
    );
  });

  test('cutout passes the gradient where it keeps the image and none inside the square', () => {
    const centre = offsets([0, 3], [2, 1]);
    const kept = values(() => cutout(tf.ones(shape) as tf.Tensor4D, centre));
    assert.deepEqual(
      gradient((t) => cutout(t, centre), x, w, shape),
      Float32Array.from(w, (v, k) => v * kept[k]),
    );
  });

  test('an image left unaugmented (probability) gets the identity gradient, the other the augmented one', () => {
    const params: AugmentParams = { selected: [false, true], color: { brightness: r, saturation: r, contrast: r } };
    const all = gradient((t) => augment(t, { ...params, selected: [true, true] }), x, w, shape);
    const blended = gradient((t) => augment(t, params), x, w, shape);
    assert.deepEqual(blended.slice(0, n / 2), w.slice(0, n / 2));
    assert.deepEqual(blended.slice(n / 2), all.slice(n / 2));
  });

  test('a gradient of a gradient runs through every op (R1 on augmented images) and matches a central difference', () => {
    // D(y) = sum(q * y^2) and L(x) = ||grad_x D(augment(x))||^2: for fixed parameters L is quadratic in x, so
    // (L(x + v) - L(x - v)) / 2 is exactly its derivative along v.
    const params = { ...drawParams(new Rng(15), ALL, shape), selected: [true, false] };
    const q = normals(n, 16);
    const v = normals(n, 17);
    const penalty = (input: tf.Tensor) =>
      tf
        .grad((y: tf.Tensor) =>
          augment(y as tf.Tensor4D, params)
            .square()
            .mul(tf.tensor4d(q, shape))
            .sum(),
        )(input)
        .square()
        .sum();
    const grad = values(() => tf.grad(penalty)(tf.tensor4d(x, shape)));
    const along = grad.reduce((sum, g, k) => sum + g * v[k], 0);
    const at = (sign: number) =>
      values(() =>
        penalty(
          tf.tensor4d(
            x.map((value, k) => value + sign * v[k]),
            shape,
          ),
        ),
      )[0];
    const difference = (at(1) - at(-1)) / 2;
    assert.ok(Math.abs(along - difference) <= 1e-4 * Math.abs(difference), `${along} vs ${difference}`);
  });

  test('a generator-like network learns through the augmenter: non-zero, finite gradients that differ from the unaugmented ones', () => {
    const augmenter = createAugmenter(ALL, 5)!;
    const z = tf.tensor2d(normals(4 * 3, 13), [4, 3]);
    const weights = tf.variable(tf.tensor2d(normals(3 * 8 * 8 * 3, 14, 0.3), [3, 8 * 8 * 3]));
    const generate = () => tf.tanh(z.matMul(weights)).reshape([4, 8, 8, 3]) as tf.Tensor4D;
    const grads = (through: (images: tf.Tensor4D) => tf.Tensor4D) =>
      values(() => {
        const { grads } = tf.variableGrads(() => through(generate()).square().mean() as tf.Scalar, [weights]);
        return grads[weights.name];
      });
    const augmented = grads((images) => augmenter.apply(images));
    const plain = grads((images) => images);
    assert.ok(augmented.every(Number.isFinite));
    assert.ok(augmented.filter((v) => v !== 0).length > augmented.length / 2, 'most weights get a gradient');
    assert.ok(relativeError(augmented, plain) > 1e-2, 'the augmentation changes the gradient');
    tf.dispose([z, weights]);
  });
});

describe('the augmenter', () => {
  const shape: Shape4 = [6, 8, 8, 3];
  const x = normals(size(shape), 21, 0.5);
  const apply = (augmenter: ReturnType<typeof createAugmenter>) => values(() => augmenter!.apply(tf.tensor4d(x, shape)));

  test('is null when train.augment is false', () => {
    assert.equal(createAugmenter(false, 0), null);
  });

  test('repeats for a seed, draws afresh on every call, and differs across seeds', () => {
    const [a, b] = [createAugmenter(ALL, 1), createAugmenter(ALL, 1)];
    const first = apply(a);
    assert.deepEqual(apply(b), first);
    assert.notDeepEqual(apply(a), first, 'a second call (the fake batch after the real one) has its own draws');
    assert.notDeepEqual(apply(createAugmenter(ALL, 2)), first);
  });

  test('its saved state resumes the same draws, through JSON and in a new augmenter', () => {
    const augmenter = createAugmenter(ALL, 3)!;
    apply(augmenter);
    const saved = JSON.parse(JSON.stringify(augmenter.state()));
    const next = [apply(augmenter), apply(augmenter)];
    const resumed = createAugmenter(ALL, 3)!;
    resumed.restore(saved);
    assert.deepEqual([apply(resumed), apply(resumed)], next);
    augmenter.restore(saved);
    assert.deepEqual(apply(augmenter), next[0]);
  });

  test('probability 0 is the identity, 1 augments every image, 0.5 about half of them and leaves the rest exact', () => {
    const perImage = size(shape) / shape[0];
    const changed = (out: Float32Array) =>
      Array.from({ length: shape[0] }, (_, i) => out.slice(i * perImage, (i + 1) * perImage).some((v, k) => v !== x[i * perImage + k]));
    const never = createAugmenter({ ...ALL, probability: 0 }, 4);
    for (let i = 0; i < 3; i++) assert.deepEqual(apply(never), x);
    const always = createAugmenter(ALL, 4);
    for (let i = 0; i < 3; i++) assert.ok(changed(apply(always)).every(Boolean));
    const half = createAugmenter({ ...ALL, probability: 0.5 }, 4);
    const counts = Array.from({ length: 30 }, () => changed(apply(half)).filter(Boolean).length);
    const share = counts.reduce((a, b) => a + b, 0) / (30 * shape[0]);
    assert.ok(share > 0.35 && share < 0.65, `share augmented ${share}`);
  });

  test('leaks no tensors, forward or under a gradient', () => {
    const augmenter = createAugmenter({ ...ALL, probability: 0.5 }, 6)!;
    const input = tf.tensor4d(x, shape);
    const before = tf.memory().numTensors;
    augmenter.apply(input).dispose();
    tf.grad((t: tf.Tensor) => augmenter.apply(t as tf.Tensor4D).sum())(input).dispose();
    assert.equal(tf.memory().numTensors, before);
    input.dispose();
  });
});

test('runs alike on cpu and tensorflow: output and gradient within 1e-6', { skip: skipTensorflow }, async (t) => {
  const shape: Shape4 = [4, 16, 16, 3];
  const x = normals(size(shape), 31, 0.5);
  const w = normals(size(shape), 32);
  const run = async (backend: 'cpu' | 'tensorflow') => {
    await useBackend(backend);
    const params = drawParams(new Rng(33), { ...ALL, probability: 0.75 }, shape);
    return { out: values(() => augment(tf.tensor4d(x, shape), params)), grad: gradient((input) => augment(input, params), x, w, shape) };
  };
  try {
    const [cpu, tensorflow] = [await run('cpu'), await run('tensorflow')];
    const errors = { out: relativeError(tensorflow.out, cpu.out), grad: relativeError(tensorflow.grad, cpu.grad) };
    t.diagnostic(`tensorflow vs cpu: output ${errors.out.toExponential(2)}, gradient ${errors.grad.toExponential(2)}`);
    assert.ok(errors.out <= 1e-6 && errors.grad <= 1e-6, JSON.stringify(errors));
  } finally {
    await useBackend('cpu');
  }
});

describe("PyTorch parity: the paper's DiffAugment code with the same draws", { skip: torchSkip() }, () => {
  const CASES: Record<string, AugmentSettings['policy']> = {
    color: ['color'],
    translation: ['translation'],
    cutout: ['cutout'],
    all: ['color', 'translation', 'cutout'],
  };
  // Non-square with one channel catches swapped rows and columns (and runs the paper's saturation, a no-op).
  const SHAPES: Shape4[] = [
    [6, 16, 16, 3],
    [5, 10, 14, 1],
    [2, 64, 64, 3],
  ];

  for (const shape of SHAPES) {
    test(`${shape.join('x')} (NHWC): every op and the whole policy, outputs and gradients`, (t) => {
      const [, h, w] = shape;
      const x = normals(size(shape), 41, 0.5);
      const weights = normals(size(shape), 42);
      const params = drawParams(new Rng(43), ALL, shape);
      // The first image at the ends of the ranges: the largest shifts, the cutout's first row and last column centre.
      Object.assign(params.translation!, {
        rows: params.translation!.rows.with(0, translationRange(h)),
        cols: params.translation!.cols.with(0, -translationRange(w)),
      });
      Object.assign(params.cutout!, { rows: params.cutout!.rows.with(0, 0), cols: params.cutout!.cols.with(0, w - (cutoutSize(w) % 2)) });

      const perImage = (a: ArrayLike<number>): NamedTensor => ({ shape: [a.length], data: Float32Array.from(a) });
      const torch = runTorchScript(
        SCRIPT,
        { cases: CASES },
        new Map<string, NamedTensor>([
          ['x', { shape, data: x }],
          ['weights', { shape, data: weights }],
          ['brightness', perImage(params.color!.brightness)],
          ['saturation', perImage(params.color!.saturation)],
          ['contrast', perImage(params.color!.contrast)],
          ['translation_x', perImage(params.translation!.rows)],
          ['translation_y', perImage(params.translation!.cols)],
          ['offset_x', perImage(params.cutout!.rows)],
          ['offset_y', perImage(params.cutout!.cols)],
        ]),
      );

      const report: string[] = [];
      for (const [name, policy] of Object.entries(CASES)) {
        const only: AugmentParams = { selected: params.selected };
        if (policy.includes('color')) only.color = params.color;
        if (policy.includes('translation')) only.translation = params.translation;
        if (policy.includes('cutout')) only.cutout = params.cutout;
        const out = values(() => augment(tf.tensor4d(x, shape), only));
        const grad = gradient((input) => augment(input, only), x, weights, shape);
        const expected = { out: torch.get(`out/${name}`)!, grad: torch.get(`grad/${name}`)! };
        assert.deepEqual([expected.out.shape, expected.grad.shape], [shape, shape]);
        const errors = [relativeError(out, expected.out.data), relativeError(grad, expected.grad.data)];
        report.push(`${name} ${errors.map((e) => e.toExponential(2)).join(' / ')}`);
        // Moving and zeroing pixels is exact; only the colour ops' means round differently.
        const limit = policy.includes('color') ? 1e-6 : 0;
        assert.ok(errors[0] <= limit && errors[1] <= limit, `${name}: output ${errors[0]}, gradient ${errors[1]} > ${limit}`);
      }
      t.diagnostic(`relative error output / gradient: ${report.join('; ')}`);
    });
  }
});
