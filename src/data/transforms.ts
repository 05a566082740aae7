// The cached stage: deterministic transforms applied to one decoded image at a time, in config order.
import sharp from 'sharp';
import { UserError } from '../errors.ts';
import { cropFits } from '../plan/data-shape.ts';
import type { CachedTransform } from './transform-stages.ts';
import type { RawImage } from './types.ts';

/** Applies `transforms` (data.transforms[0..]) to the image decoded from `file`. */
export async function applyCachedTransforms(image: RawImage, transforms: CachedTransform[], file: string): Promise<RawImage> {
  let current = image;
  for (const [index, transform] of transforms.entries()) {
    switch (transform.kind) {
      case 'flatten':
        current = flatten(current, parseColour(transform.background));
        break;
      case 'resize':
        current = await resize(current, transform.size, transform.fit, parseColour(transform.background));
        break;
      case 'centerCrop':
        current = centerCrop(current, transform.size, `data.transforms[${index}] (centerCrop)`, file);
        break;
      case 'grayscale':
        current = grayscale(current);
        break;
    }
  }
  return current;
}

export function parseColour(hex: string): [number, number, number] {
  const value = Number.parseInt(hex.slice(1), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

function bands(image: RawImage): number {
  return image.channels + (image.alpha ? 1 : 0);
}

/** Alpha over `background`, giving RGB. Integer arithmetic truncating like libvips' flatten, so it equals sharp's. */
export function flatten(image: RawImage, background: [number, number, number]): RawImage {
  const pixels = image.width * image.height;
  const stride = bands(image);
  const out = new Uint8Array(pixels * 3);
  for (let p = 0; p < pixels; p++) {
    const src = p * stride;
    const alpha = image.alpha ? image.data[src + stride - 1] : 255;
    const rest = 255 - alpha;
    for (let c = 0; c < 3; c++) {
      const value = image.data[src + (image.channels === 1 ? 0 : c)];
      out[p * 3 + c] = ((value * alpha + background[c] * rest) / 255) | 0;
    }
  }
  return { data: out, width: image.width, height: image.height, channels: 3, alpha: false };
}

/**
 * sharp's resize with the 'linear' kernel: a triangle filter widened by the scale when shrinking and bilinear
 * interpolation when enlarging, the nearest of sharp's kernels to torchvision's Resize (bilinear, antialiased).
 * Values can differ from PIL/torchvision by a few levels; they are not bit-exact.
 */
export async function resize(
  image: RawImage,
  [height, width]: [number, number],
  fit: 'fill' | 'cover' | 'contain',
  background: [number, number, number],
): Promise<RawImage> {
  if (image.height === height && image.width === width) return image;
  // A grey image is letterboxed with the background's BT.601 luma, as the grayscale transform would make it.
  const grey = luma(...background);
  const [r, g, b] = image.channels === 1 ? [grey, grey, grey] : background;
  const { data, info } = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: bands(image) as 1 | 2 | 3 | 4 } })
    .resize({ width, height, fit, kernel: 'linear', background: { r, g, b, alpha: 1 } })
    .raw()
    .toBuffer({ resolveWithObject: true });
  // sharp outputs grey input as sRGB (equal channels): keep the first channel, and alpha.
  const outBands = bands(image);
  if (info.channels === outBands) return { ...image, data, width, height };
  const out = new Uint8Array(width * height * outBands);
  for (let p = 0, q = 0; p < width * height; p++, q += info.channels) {
    out[p * outBands] = data[q];
    if (image.alpha) out[p * outBands + 1] = data[q + info.channels - 1];
  }
  return { ...image, data: out, width, height };
}

/** torchvision's center_crop offsets: round((size - crop) / 2), rounding halves to even as Python does. */
export function centerOffset(size: number, crop: number): number {
  const half = (size - crop) / 2;
  const floor = Math.floor(half);
  if (half - floor !== 0.5) return Math.round(half);
  return floor % 2 === 0 ? floor : floor + 1;
}

export function centerCrop(image: RawImage, [height, width]: [number, number], what: string, file: string): RawImage {
  // Images in a folder differ in size: each is checked as it is cropped.
  if (!cropFits([height, width], [image.height, image.width])) {
    throw new UserError(`${file}: ${what} crops ${height}x${width} but the image is ${image.height}x${image.width} at that point; resize first`);
  }
  return crop(image, centerOffset(image.height, height), centerOffset(image.width, width), height, width);
}

export function crop(image: RawImage, top: number, left: number, height: number, width: number): RawImage {
  const stride = bands(image);
  const out = new Uint8Array(height * width * stride);
  const rowBytes = width * stride;
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * image.width + left) * stride;
    out.set(image.data.subarray(from, from + rowBytes), y * rowBytes);
  }
  return { ...image, data: out, width, height };
}

/** ITU-R BT.601 luma, rounded (as PIL's convert('L')). */
export function luma(r: number, g: number, b: number): number {
  return Math.round(0.299 * r + 0.587 * g + 0.114 * b);
}

export function grayscale(image: RawImage): RawImage {
  if (image.channels === 1) return image;
  const pixels = image.width * image.height;
  const stride = bands(image);
  const outStride = image.alpha ? 2 : 1;
  const out = new Uint8Array(pixels * outStride);
  for (let p = 0; p < pixels; p++) {
    const src = p * stride;
    out[p * outStride] = luma(image.data[src], image.data[src + 1], image.data[src + 2]);
    if (image.alpha) out[p * outStride + 1] = image.data[src + 3];
  }
  return { data: out, width: image.width, height: image.height, channels: 1, alpha: image.alpha };
}

export function dropAlpha(image: RawImage): RawImage {
  if (!image.alpha) return image;
  const pixels = image.width * image.height;
  const stride = image.channels + 1;
  const out = new Uint8Array(pixels * image.channels);
  for (let p = 0; p < pixels; p++) {
    for (let c = 0; c < image.channels; c++) out[p * image.channels + c] = image.data[p * stride + c];
  }
  return { ...image, data: out, alpha: false };
}
