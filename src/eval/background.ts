// Background statistics: how bright generated images are where real images are empty. On Fashion-MNIST the
// garment sits on black (pixel 0); a generator that tints or speckles that black draws images a classifier may
// still accept while FD and precision do not (docs/results.md's sneakers). Two definitions of "background":
//
// - frame<w>: the outer w-pixel frame of every image (w = 2: 208 of a 28x28 image's 784 pixels), the same pixels
//   for any data set; on Fashion-MNIST real images average about 0.00-0.01 there.
// - empty: the pixels where the reference real sample's mean image (over its images and channels) is at most
//   1/255, i.e. black in nearly every real image of this class or data set (for sneakers the whole top half).
//   Data with light backgrounds has no such pixels, and the metric is left out.
//
// The value is the mean intensity, in [0, 1] (pixel / 255), over those pixels, their channels and the images.
import type { ImageSet } from './images.ts';

/** The outer frame's width in pixels. */
export const FRAME_WIDTH = 2;
/** A pixel is background for `empty` when the real sample's mean image is at most this there. */
export const EMPTY_LEVEL = 1 / 255;

/** Per pixel (height * width), 1 where it is in the outer `width`-pixel frame. */
export function frameMask(height: number, width: number, frame = FRAME_WIDTH): Uint8Array {
  const mask = new Uint8Array(height * width);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (y < frame || y >= height - frame || x < frame || x >= width - frame) mask[y * width + x] = 1;
    }
  }
  return mask;
}

/** Per pixel, 1 where the mean over `images` and channels is at most `level`. */
export function emptyMask(images: ImageSet, level = EMPTY_LEVEL): Uint8Array {
  const pixels = images.height * images.width;
  const sums = new Float64Array(pixels);
  const { channels } = images;
  for (let n = 0; n < images.count; n++) {
    const base = n * pixels * channels;
    for (let p = 0; p < pixels; p++) {
      for (let c = 0; c < channels; c++) sums[p]! += images.data[base + p * channels + c]!;
    }
  }
  const mask = new Uint8Array(pixels);
  const total = images.count * channels;
  for (let p = 0; p < pixels; p++) if (sums[p]! / total <= level) mask[p] = 1;
  return mask;
}

/** The mean intensity of `images` over the pixels where `mask` is 1 (all channels); NaN for an empty mask. */
export function maskedMean(images: ImageSet, mask: Uint8Array): number {
  const pixels = images.height * images.width;
  if (mask.length !== pixels) throw new RangeError(`a mask of ${mask.length} pixels for images of ${pixels}`);
  const { channels } = images;
  let sum = 0;
  let count = 0;
  for (let n = 0; n < images.count; n++) {
    const base = n * pixels * channels;
    for (let p = 0; p < pixels; p++) {
      if (!mask[p]) continue;
      for (let c = 0; c < channels; c++) sum += images.data[base + p * channels + c]!;
      count += channels;
    }
  }
  return count === 0 ? NaN : sum / count;
}

/** The share of pixels a mask covers. */
export function maskArea(mask: Uint8Array): number {
  return mask.reduce((a, b) => a + b, 0) / mask.length;
}
