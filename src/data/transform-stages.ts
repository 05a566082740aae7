// Which transforms run once at load time (and are cached) and which run per batch. Where the split falls, and
// what may not come after it, is the planner's rule (src/plan/data-shape.ts).
import type { Transform } from '../config/experiment.generated.ts';
import { UserError } from '../errors.ts';
import { cachedStageLength, misplacedTransform } from '../plan/data-shape.ts';

export type CachedTransform = Extract<Transform, { kind: 'flatten' | 'resize' | 'centerCrop' | 'grayscale' }>;
export type BatchTransform = Extract<Transform, { kind: 'randomCrop' | 'randomHorizontalFlip' | 'centerCrop' | 'grayscale' | 'normalize' }>;

export interface TransformPlan {
  /** The prefix before the first random transform or normalize: applied once per image, cached as uint8. */
  cached: CachedTransform[];
  /** The rest, applied per batch in JS; `index` is the position in data.transforms (names the random stream). */
  perBatch: { transform: BatchTransform; index: number }[];
}

/** Splits data.transforms; a flatten or resize after the split is a UserError. */
export function planTransforms(transforms: Transform[]): TransformPlan {
  const split = cachedStageLength(transforms);
  const misplaced = misplacedTransform(transforms);
  if (misplaced) throw new UserError(misplaced.message);
  const perBatch = transforms.slice(split).map((transform, offset) => ({ transform: transform as BatchTransform, index: split + offset }));
  return { cached: transforms.slice(0, split) as CachedTransform[], perBatch };
}
