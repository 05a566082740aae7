// train.augment: DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training"),
// the paper's three ops with its parameters, on NHWC batches. Each op is a differentiable function of the
// images, built from ops with gradients on every backend (add/sub/mul/mean, where, and a gather whose
// gradient is written out here); the random parameters, drawn from our Rng, enter only as constant tensors,
// so gradients reach the generator through them. test/parity/diff_augment.py transcribes the paper's code.
import * as tf from '@tensorflow/tfjs';
import type { Train } from '../config/experiment.generated.ts';
import { deriveSeed, Rng, type RngState } from '../random/rng.ts';

export type AugmentSettings = Exclude<Train['augment'], false>;

/** One integer per image for rows and one for columns. */
export interface PerImageOffsets {
  rows: Int32Array;
  cols: Int32Array;
}

/** One call's random parameters, one entry per image; an op is present when the policy has it. */
export interface AugmentParams {
  /** Whether each image is augmented; the others pass through unchanged. */
  selected: boolean[];
  /** The colour ops' uniform draws r in [0, 1) (the paper's torch.rand values). */
  color?: { brightness: Float32Array; saturation: Float32Array; contrast: Float32Array };
  /** Shifts, each in [-s, s] with s = translationRange(side): a positive one moves the content up / left. */
  translation?: PerImageOffsets;
  /** The cutout square's centre (the paper's offsets), in [0, side + 1 - size % 2) with size = cutoutSize(side). */
  cutout?: PerImageOffsets;
}

/** The paper's int(side * ratio + 0.5). */
const paperRound = (side: number, ratio: number) => Math.floor(side * ratio + 0.5);

/** The largest shift along a side: an eighth of it. */
export const translationRange = (side: number): number => paperRound(side, 1 / 8);

/** The cutout square's extent along a side: half of it. */
export const cutoutSize = (side: number): number => paperRound(side, 1 / 2);

const perImage = (values: Float32Array) => tf.tensor4d(values, [values.length, 1, 1, 1]);

/** x + (r - 0.5). */
export function brightness(x: tf.Tensor4D, r: Float32Array): tf.Tensor4D {
  return x.add(perImage(r.map((v) => v - 0.5)));
}

/** (x - mean over channels) * 2r + that mean. On one channel the mean is the pixel itself: the identity. */
export function saturation(x: tf.Tensor4D, r: Float32Array): tf.Tensor4D {
  const mean = x.mean(3, true);
  return x
    .sub(mean)
    .mul(perImage(r.map((v) => v * 2)))
    .add(mean);
}

/** (x - the image's mean over all pixels and channels) * (r + 0.5) + that mean. */
export function contrast(x: tf.Tensor4D, r: Float32Array): tf.Tensor4D {
  const mean = x.mean([1, 2, 3], true);
  return x
    .sub(mean)
    .mul(perImage(r.map((v) => v + 0.5)))
    .add(mean);
}

/** x's pixels rearranged: output pixel p (flat over n, h, w) shows input pixel from[p], or zero where from[p] is the pixel count. */
function gatherPixels(x: tf.Tensor4D, from: Int32Array): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const pixels = x.reshape([n * h * w, c]).concat(tf.zeros([1, c]));
  return pixels.gather(tf.tensor1d(from, 'int32')).reshape(x.shape) as tf.Tensor4D;
}

/**
 * An injective rearrangement of pixels with zero fill, as a gather whose gradient is the inverse rearrangement
 * (`to`), itself differentiable the same way (a gradient of a gradient, as R1 on augmented images takes). A
 * gather's own gradient is a segment sum, which the wasm backend lacks.
 */
function movePixels(x: tf.Tensor4D, from: Int32Array, to: Int32Array): tf.Tensor4D {
  const move = tf.customGrad((input) => ({
    value: gatherPixels(input as tf.Tensor4D, from),
    gradFunc: (dy) => movePixels(dy as tf.Tensor4D, to, from),
  }));
  return move(x) as tf.Tensor4D;
}

/** Output pixel (i, j) is input pixel (i + rows, j + cols), zero where that is outside the image. */
export function translate(x: tf.Tensor4D, shift: PerImageOffsets): tf.Tensor4D {
  const [n, h, w] = x.shape;
  const pixels = n * h * w;
  const from = new Int32Array(pixels).fill(pixels);
  const to = new Int32Array(pixels).fill(pixels);
  for (let image = 0; image < n; image++) {
    for (let i = 0; i < h; i++) {
      const row = i + shift.rows[image];
      if (row < 0 || row >= h) continue;
      for (let j = 0; j < w; j++) {
        const col = j + shift.cols[image];
        if (col < 0 || col >= w) continue;
        const [out, source] = [(image * h + i) * w + j, (image * h + row) * w + col];
        from[out] = source;
        to[source] = out;
      }
    }
  }
  return movePixels(x, from, to);
}

/**
 * Zeroes a cutoutSize(h) x cutoutSize(w) rectangle whose first row is centre.rows - size // 2 (likewise for
 * columns), its indices clamped to the image as the paper's code does.
 */
export function cutout(x: tf.Tensor4D, centre: PerImageOffsets): tf.Tensor4D {
  const [n, h, w] = x.shape;
  const [sizeH, sizeW] = [cutoutSize(h), cutoutSize(w)];
  const clamp = (v: number, high: number) => Math.min(Math.max(v, 0), high);
  const mask = new Float32Array(n * h * w).fill(1);
  for (let image = 0; image < n; image++) {
    for (let i = 0; i < sizeH; i++) {
      const row = clamp(centre.rows[image] + i - Math.floor(sizeH / 2), h - 1);
      for (let j = 0; j < sizeW; j++) mask[(image * h + row) * w + clamp(centre.cols[image] + j - Math.floor(sizeW / 2), w - 1)] = 0;
    }
  }
  return x.mul(tf.tensor4d(mask, [n, h, w, 1]));
}

/** The policy's ops with the given parameters, always in the order color, translation, cutout. */
export function augment(x: tf.Tensor4D, params: AugmentParams): tf.Tensor4D {
  const [n, , , channels] = x.shape;
  if (params.selected.length !== n) throw new Error(`augment: parameters for ${params.selected.length} images, batch of ${n}`);
  return tf.tidy(() => {
    let y = x;
    if (params.color) {
      y = brightness(y, params.color.brightness);
      if (channels > 1) y = saturation(y, params.color.saturation); // the identity on one channel: skipped
      y = contrast(y, params.color.contrast);
    }
    if (params.translation) y = translate(y, params.translation);
    if (params.cutout) y = cutout(y, params.cutout);
    if (params.selected.every(Boolean)) return y;
    // A constant mask: the gradient goes to the augmented branch for selected images, to x for the others.
    return tf.where(tf.tensor4d(params.selected, [n, 1, 1, 1], 'bool'), y, x);
  });
}

/** Fresh parameters for a batch of `n` images of `height` x `width`, in the paper's ranges. */
export function drawParams(rng: Rng, settings: AugmentSettings, [n, height, width]: readonly number[]): AugmentParams {
  // Uniforms on torch.rand's float32 grid (multiples of 2^-24), so no draw rounds up to 1.
  const uniforms = () => Float32Array.from({ length: n }, () => rng.int(2 ** 24) / 2 ** 24);
  const integers = (low: number, high: number) => Int32Array.from({ length: n }, () => low + rng.int(high - low));
  const params: AugmentParams = { selected: Array.from({ length: n }, () => rng.next() < settings.probability) };
  if (settings.policy.includes('color')) params.color = { brightness: uniforms(), saturation: uniforms(), contrast: uniforms() };
  if (settings.policy.includes('translation')) {
    const [rows, cols] = [translationRange(height), translationRange(width)];
    params.translation = { rows: integers(-rows, rows + 1), cols: integers(-cols, cols + 1) };
  }
  if (settings.policy.includes('cutout')) {
    const [rows, cols] = [cutoutSize(height), cutoutSize(width)];
    params.cutout = { rows: integers(0, height + 1 - (rows % 2)), cols: integers(0, width + 1 - (cols % 2)) };
  }
  return params;
}

export interface Augmenter {
  /** The batch under fresh random parameters: one call per batch, so real and fake batches get independent draws. */
  apply(images: tf.Tensor4D): tf.Tensor4D;
  /** The random state, for a checkpoint; restore() continues the same sequence of draws. */
  state(): RngState;
  restore(state: RngState): void;
}

/** The run's augmenter (its draws derive from the run seed), or null when train.augment is false. */
export function createAugmenter(settings: Train['augment'], seed: number): Augmenter | null {
  if (settings === false) return null;
  const rng = new Rng(deriveSeed(seed, 'augment'));
  return {
    apply: (images) => augment(images, drawParams(rng, settings, images.shape)),
    state: () => rng.state(),
    restore: (state) => rng.restore(state),
  };
}
