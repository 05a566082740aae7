// The image format of the quality metrics: float32 NHWC in [0, 1], as ToTensor gives for uint8 pixels.
// Generated images (the generator's tanh range [-1, 1], or whatever data.transforms' normalize maps to)
// and real uint8 datasets are converted into it first, so that both sides of every comparison go through
// exactly the same path.
import * as tf from '@tensorflow/tfjs';
import type { ImageDataset } from '../data/types.ts';

export interface ImageSet {
  count: number;
  height: number;
  width: number;
  channels: 1 | 3;
  /** count*height*width*channels values in [0, 1], NHWC. */
  data: Float32Array;
}

/** The images of a uint8 dataset (all, or those at `indices`, in that order) scaled to [0, 1]. */
export function imagesFromDataset(dataset: Pick<ImageDataset, 'count' | 'height' | 'width' | 'channels' | 'pixels'>, indices?: ArrayLike<number>): ImageSet {
  const { height, width, channels } = dataset;
  const size = height * width * channels;
  const count = indices ? indices.length : dataset.count;
  const data = new Float32Array(count * size);
  for (let i = 0; i < count; i++) {
    const source = indices ? indices[i] : i;
    if (!(source >= 0 && source < dataset.count)) throw new RangeError(`image index ${source} is outside 0..${dataset.count - 1}`);
    const base = source * size;
    const out = i * size;
    for (let k = 0; k < size; k++) data[out + k] = dataset.pixels[base + k] / 255;
  }
  return { count, height, width, channels, data };
}

/**
 * Float NHWC values in the model's range (`range`, default the generator's tanh range [-1, 1]) mapped to
 * [0, 1] and clipped there: what the images would look like when saved as pictures (without the rounding).
 */
export function imagesFromValues(
  values: Float32Array,
  shape: { count: number; height: number; width: number; channels: number },
  range: [number, number] = [-1, 1],
): ImageSet {
  const { count, height, width, channels } = shape;
  if (channels !== 1 && channels !== 3) throw new RangeError(`images must have 1 or 3 channels, not ${channels}`);
  if (values.length !== count * height * width * channels) {
    throw new RangeError(`${values.length} values do not make ${count} images of ${height}x${width}x${channels}`);
  }
  const [low, high] = range;
  const scale = 1 / (high - low);
  const data = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = (values[i] - low) * scale;
    data[i] = value < 0 ? 0 : value > 1 ? 1 : value;
  }
  return { count, height, width, channels, data };
}

/** A [count, height, width, channels] tensor in the model's range (default [-1, 1]); the tensor is not disposed. */
export async function imagesFromTensor(images: tf.Tensor4D, range: [number, number] = [-1, 1]): Promise<ImageSet> {
  const [count, height, width, channels] = images.shape;
  return imagesFromValues((await images.data()) as Float32Array, { count, height, width, channels }, range);
}

/** The images at `indices`, in that order. */
export function selectImages(images: ImageSet, indices: ArrayLike<number>): ImageSet {
  const size = images.height * images.width * images.channels;
  const data = new Float32Array(indices.length * size);
  for (let i = 0; i < indices.length; i++) {
    const source = indices[i];
    if (!(source >= 0 && source < images.count)) throw new RangeError(`image index ${source} is outside 0..${images.count - 1}`);
    data.set(images.data.subarray(source * size, (source + 1) * size), i * size);
  }
  return { count: indices.length, height: images.height, width: images.width, channels: images.channels, data };
}
