// Per-batch stage: shuffle, the random (and later deterministic) transforms, normalize; uint8 NHWC in, float32 NHWC out.
// Crops and flips only move pixels and grayscale/normalize only mix channels, so each image is one pass: a source
// coordinate map (row offset, column offset and direction) composed with one channel matrix.
import type { Data } from '../config/experiment.generated.ts';
import { transformedShape } from '../plan/data-shape.ts';
import { deriveSeed, Rng } from '../random/rng.ts';
import { planTransforms } from './transform-stages.ts';
import { centerOffset } from './transforms.ts';
import type { ImageDataset, Shape } from './types.ts';

export interface Batch {
  /** count*height*width*channels floats, NHWC, in [0, 1] or as normalize maps it. */
  images: Float32Array;
  count: number;
  /** 0-based position of the batch in the epoch. */
  index: number;
}

export function batchesPerEpoch(dataset: ImageDataset, batchSize: number): number {
  return Math.ceil(dataset.count / batchSize);
}

/** The shape of one image of a batch: the dataset's shape after the per-batch transforms. */
export function batchShape(dataset: ImageDataset, data: Data): Shape {
  const plan = planTransforms(data.transforms);
  return transformedShape(
    plan.perBatch.map((step) => step.transform),
    dataset,
    plan.cached.length,
  );
}

/** Per image: source pixel of output (y, x) is (y + top, left + step * x). */
interface Placement {
  top: number;
  left: number;
  step: 1 | -1;
}

type GeometryStep = (placement: Placement) => void;

interface Compiled {
  shape: Shape;
  geometry: GeometryStep[];
  /** out[c] = sum_k matrix[c * inChannels + k] * in[k] + offset[c], on the uint8 values. */
  matrix: Float64Array;
  offset: Float64Array;
  /** The matrix only scales each channel (no grayscale): the common, fast case. */
  diagonal: boolean;
}

function compile(dataset: ImageDataset, data: Data, seed: number, epoch: number): Compiled {
  const plan = planTransforms(data.transforms);
  const inChannels = dataset.channels;
  let shape: Shape = { height: dataset.height, width: dataset.width, channels: inChannels };
  // ToTensor: uint8 to [0, 1]. Rows are output channels of the composed linear map.
  let rows: number[][] = Array.from({ length: inChannels }, (_, c) => Array.from({ length: inChannels }, (_, k) => (c === k ? 1 / 255 : 0)));
  let offsets: number[] = Array(inChannels).fill(0);
  const geometry: GeometryStep[] = [];
  for (const { transform, index } of plan.perBatch) {
    const before = shape;
    shape = transformedShape([transform], before, index);
    const stream = () => new Rng(deriveSeed(seed, `transforms/${index}/${transform.kind}/${epoch}`));
    switch (transform.kind) {
      case 'randomCrop': {
        const random = stream();
        const [height, width] = transform.size;
        geometry.push((at) => {
          at.top += random.int(before.height - height + 1);
          at.left += at.step * random.int(before.width - width + 1);
        });
        break;
      }
      case 'centerCrop': {
        const top = centerOffset(before.height, transform.size[0]);
        const left = centerOffset(before.width, transform.size[1]);
        geometry.push((at) => {
          at.top += top;
          at.left += at.step * left;
        });
        break;
      }
      case 'randomHorizontalFlip': {
        const random = stream();
        const { p } = transform;
        geometry.push((at) => {
          if (random.next() < p) {
            at.left += at.step * (before.width - 1);
            at.step = -at.step as 1 | -1;
          }
        });
        break;
      }
      case 'grayscale':
        if (before.channels === 3) {
          const weights = [0.299, 0.587, 0.114];
          rows = [rows[0].map((_, k) => weights.reduce((sum, w, c) => sum + w * rows[c][k], 0))];
          offsets = [weights.reduce((sum, w, c) => sum + w * offsets[c], 0)];
        }
        break;
      case 'normalize':
        rows = rows.map((row, c) => row.map((value) => value / transform.std[c]));
        offsets = offsets.map((value, c) => (value - transform.mean[c]) / transform.std[c]);
        break;
    }
  }
  const diagonal = rows.length === inChannels && rows.every((row, c) => row.every((value, k) => value === 0 || c === k));
  return { shape, geometry, matrix: Float64Array.from(rows.flat()), offset: Float64Array.from(offsets), diagonal };
}

/**
 * The batches of one epoch: shuffled (when data.shuffle) by a permutation from the stream `shuffle/<epoch>`,
 * each random transform drawing from its own stream per image in epoch order. The last batch may be smaller.
 */
export function* epochBatches(dataset: ImageDataset, data: Data, opts: { seed: number; epoch: number }): Generator<Batch> {
  const order = data.shuffle
    ? new Rng(deriveSeed(opts.seed, `shuffle/${opts.epoch}`)).permutation(dataset.count)
    : Uint32Array.from({ length: dataset.count }, (_, i) => i);
  const compiled = compile(dataset, data, opts.seed, opts.epoch);
  const { height, width, channels } = compiled.shape;
  const imageSize = height * width * channels;
  for (let index = 0, start = 0; start < dataset.count; index++, start += data.batchSize) {
    const count = Math.min(data.batchSize, dataset.count - start);
    const images = new Float32Array(count * imageSize);
    for (let i = 0; i < count; i++) {
      const placement: Placement = { top: 0, left: 0, step: 1 };
      for (const step of compiled.geometry) step(placement);
      writeImage(dataset, order[start + i], placement, compiled, images, i * imageSize);
    }
    yield { images, count, index };
  }
}

function writeImage(dataset: ImageDataset, source: number, at: Placement, compiled: Compiled, out: Float32Array, outBase: number): void {
  const { pixels, height: srcHeight, width: srcWidth, channels: inC } = dataset;
  const { height, width, channels: outC } = compiled.shape;
  const { matrix: m, offset: t, diagonal } = compiled;
  const srcBase = source * srcHeight * srcWidth * inC;
  const step = at.step * inC;
  let o = outBase;
  for (let y = 0; y < height; y++) {
    let s = srcBase + ((y + at.top) * srcWidth + at.left) * inC;
    if (diagonal && inC === 3) {
      const m0 = m[0],
        m1 = m[4],
        m2 = m[8],
        t0 = t[0],
        t1 = t[1],
        t2 = t[2];
      for (let x = 0; x < width; x++, s += step, o += 3) {
        out[o] = pixels[s] * m0 + t0;
        out[o + 1] = pixels[s + 1] * m1 + t1;
        out[o + 2] = pixels[s + 2] * m2 + t2;
      }
    } else if (diagonal && inC === 1) {
      const m0 = m[0],
        t0 = t[0];
      for (let x = 0; x < width; x++, s += step, o++) out[o] = pixels[s] * m0 + t0;
    } else {
      for (let x = 0; x < width; x++, s += step) {
        for (let c = 0; c < outC; c++, o++) {
          let value = t[c];
          for (let k = 0; k < inC; k++) value += m[c * inC + k] * pixels[s + k];
          out[o] = value;
        }
      }
    }
  }
}
