// Which transforms run once at load time (and are cached) and which run per batch, and the shapes they make.
// Pure: the config validator uses this without loading anything.
import type { Data, Transform } from '../config/experiment.generated.ts';
import { UserError } from '../errors.ts';
import { knownImageSize, sourceChannels } from './source.ts';
import type { Shape } from './types.ts';

export type CachedTransform = Extract<Transform, { kind: 'flatten' | 'resize' | 'centerCrop' | 'grayscale' }>;
export type BatchTransform = Extract<Transform, { kind: 'randomCrop' | 'randomHorizontalFlip' | 'centerCrop' | 'grayscale' | 'normalize' }>;

export interface TransformPlan {
  /** The prefix before the first random transform or normalize: applied once per image, cached as uint8. */
  cached: CachedTransform[];
  /** The rest, applied per batch in JS; `index` is the position in data.transforms (names the random stream). */
  perBatch: { transform: BatchTransform; index: number }[];
}

const RANDOM_OR_FLOAT = new Set<Transform['kind']>(['randomCrop', 'randomHorizontalFlip', 'normalize']);

/**
 * Splits data.transforms. flatten and resize need the whole image pipeline (alpha, sharp), which only the
 * cached stage has, so after a random transform or normalize they are rejected rather than run slowly or
 * inexactly per batch.
 */
export function planTransforms(transforms: Transform[]): TransformPlan {
  const split = cachedPrefixLength(transforms);
  const misplaced = misplacedTransform(transforms);
  if (misplaced) throw new UserError(misplaced.message);
  const perBatch = transforms.slice(split).map((transform, offset) => ({ transform: transform as BatchTransform, index: split + offset }));
  return { cached: transforms.slice(0, split) as CachedTransform[], perBatch };
}

function cachedPrefixLength(transforms: Transform[]): number {
  const boundary = transforms.findIndex((t) => RANDOM_OR_FLOAT.has(t.kind));
  return boundary === -1 ? transforms.length : boundary;
}

/** The first flatten or resize placed after a random transform or normalize (the config validator reports it too). */
export function misplacedTransform(transforms: Transform[]): { index: number; message: string } | undefined {
  const split = cachedPrefixLength(transforms);
  const index = transforms.findIndex((t, i) => i > split && (t.kind === 'flatten' || t.kind === 'resize'));
  if (index === -1) return undefined;
  const { kind } = transforms[index];
  return {
    index,
    message:
      `data.transforms[${index}] (${kind}) comes after data.transforms[${split}] (${transforms[split].kind}): ` +
      `${kind} must come before any randomCrop, randomHorizontalFlip or normalize; move it up`,
  };
}

/** The shape after `transforms`, in order; a crop larger than the image or a normalize of the wrong length is an error. */
export function transformedShape(transforms: Transform[], input: Shape, firstIndex = 0): Shape {
  let shape: Shape = { height: input.height, width: input.width, channels: input.channels };
  transforms.forEach((transform, offset) => {
    shape = step(transform, shape, firstIndex + offset);
  });
  return shape;
}

function step(transform: Transform, shape: Shape, index: number): Shape {
  switch (transform.kind) {
    case 'flatten':
      return { ...shape, channels: 3 };
    case 'grayscale':
      return { ...shape, channels: 1 };
    case 'resize':
      return { ...shape, height: transform.size[0], width: transform.size[1] };
    case 'centerCrop':
    case 'randomCrop': {
      const [height, width] = transform.size;
      if (height > shape.height || width > shape.width) {
        throw new UserError(
          `data.transforms[${index}] (${transform.kind}) crops ${height}x${width} out of ${shape.height}x${shape.width} images: ` +
            'the crop must fit inside the image (resize first)',
        );
      }
      return { ...shape, height, width };
    }
    case 'normalize':
      for (const key of ['mean', 'std'] as const) {
        if (transform[key].length !== shape.channels) {
          throw new UserError(
            `data.transforms[${index}].${key} has ${transform[key].length} values but the images have ${shape.channels} ` +
              `channel${shape.channels === 1 ? '' : 's'} at this point: give one value per channel`,
          );
        }
      }
      return shape;
    case 'randomHorizontalFlip':
      return shape;
  }
}

/**
 * The final [height, width, channels] of a batch image, without loading: height and width are null when
 * neither the source (a named dataset) nor a resize or crop fixes them (they then come from the files).
 */
export function outputShape(data: Data): { height: number | null; width: number | null; channels: 1 | 3 } {
  let size = knownImageSize(data.source) ?? null;
  let channels = sourceChannels(data.source);
  for (const transform of data.transforms) {
    if (transform.kind === 'flatten') channels = 3;
    else if (transform.kind === 'grayscale') channels = 1;
    else if (transform.kind === 'resize' || transform.kind === 'centerCrop' || transform.kind === 'randomCrop') {
      size = transform.size;
    }
  }
  return { height: size ? size[0] : null, width: size ? size[1] : null, channels };
}
