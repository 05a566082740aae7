// How data.transforms change the images, walked once for everyone: the validator (from the config alone), the
// loader (from the measured images) and the commands that need the final shape. Nothing is read or decoded.
import type { Data, Size2, Transform } from '../config/experiment.generated.ts';
import { UserError } from '../errors.ts';
import { plural, type PlanProblem } from './problem.ts';
import { knownImageSize, sourceChannels } from './source.ts';

/** Height, width and channels of an image. */
export interface Shape {
  height: number;
  width: number;
  channels: number;
}

/** The final [height, width, channels] of a batch image: height and width are null while only the files know them. */
export interface OutputShape {
  height: number | null;
  width: number | null;
  channels: 1 | 3;
}

export interface DataPlan {
  images: OutputShape;
  /** The transform that last set the size; -1 when the size is the source's own. */
  sizeSetAt: number;
  problems: PlanProblem[];
}

/** The images at one point of data.transforms; size undefined while only the files know it. */
interface Stage {
  size: Size2 | undefined;
  channels: number;
  sizeSetAt: number;
}

const RANDOM_OR_FLOAT = new Set<Transform['kind']>(['randomCrop', 'randomHorizontalFlip', 'normalize']);

/** How many transforms lead up to the first random transform or normalize: the ones that can run once per image. */
export function cachedStageLength(transforms: Transform[]): number {
  const boundary = transforms.findIndex((t) => RANDOM_OR_FLOAT.has(t.kind));
  return boundary === -1 ? transforms.length : boundary;
}

/**
 * The first flatten or resize placed after a random transform or normalize. They need the whole image pipeline
 * (alpha, sharp), which only the cached stage has, so they are refused rather than run slowly or inexactly per batch.
 */
export function misplacedTransform(transforms: Transform[]): PlanProblem | undefined {
  const split = cachedStageLength(transforms);
  const index = transforms.findIndex((t, i) => i > split && (t.kind === 'flatten' || t.kind === 'resize'));
  if (index === -1) return undefined;
  const { kind } = transforms[index];
  return {
    path: ['data', 'transforms', String(index), 'kind'],
    message:
      `data.transforms[${index}] (${kind}) comes after data.transforms[${split}] (${transforms[split].kind}): ` +
      `${kind} must come before any randomCrop, randomHorizontalFlip or normalize; move it up`,
  };
}

/** The images data.transforms make from data.source, and the problems found on the way (the size is checked where the source fixes it). */
export function planData(data: Data): DataPlan {
  const start: Stage = { size: knownImageSize(data.source), channels: sourceChannels(data.source), sizeSetAt: -1 };
  const { end, problems } = walk(data.transforms, start, 0, false);
  const misplaced = misplacedTransform(data.transforms);
  return {
    // Sources give 1 or 3 channels, and flatten and grayscale make 3 and 1.
    images: { height: end.size ? end.size[0] : null, width: end.size ? end.size[1] : null, channels: end.channels as 1 | 3 },
    sizeSetAt: end.sizeSetAt,
    problems: misplaced ? [...problems, misplaced] : problems,
  };
}

/** What a batch image will be, without loading anything. */
export function outputShape(data: Data): OutputShape {
  return planData(data).images;
}

/**
 * The shape after `transforms` (data.transforms from `firstIndex` on) of loaded images of shape `input`; a crop
 * larger than the image or a normalize of the wrong length is a UserError.
 */
export function transformedShape(transforms: Transform[], input: Shape, firstIndex = 0): Shape {
  const { end, problems } = walk(transforms, { size: [input.height, input.width], channels: input.channels, sizeSetAt: -1 }, firstIndex, true);
  if (problems.length > 0) throw new UserError(problems[0].message);
  // A known size stays known: every transform that changes it sets a new one.
  const [height, width] = end.size!;
  return { height, width, channels: end.channels };
}

/** Whether a crop of `crop` fits inside images of `size` ([height, width] both). */
export const cropFits = (crop: Size2, size: Size2): boolean => crop[0] <= size[0] && crop[1] <= size[1];

/** `measured`: the sizes come from loaded images rather than the config. */
function walk(transforms: Transform[], start: Stage, firstIndex: number, measured: boolean): { end: Stage; problems: PlanProblem[] } {
  let stage = start;
  const problems: PlanProblem[] = [];
  transforms.forEach((transform, offset) => {
    const index = firstIndex + offset;
    problems.push(...problemsAt(transform, stage, index, measured));
    stage = after(transform, stage, index);
  });
  return { end: stage, problems };
}

function after(transform: Transform, stage: Stage, index: number): Stage {
  switch (transform.kind) {
    case 'flatten':
      return { ...stage, channels: 3 };
    case 'grayscale':
      return { ...stage, channels: 1 };
    case 'resize':
    case 'centerCrop':
    case 'randomCrop':
      return { ...stage, size: transform.size, sizeSetAt: index };
    case 'normalize':
    case 'randomHorizontalFlip':
      return stage;
  }
}

function problemsAt(transform: Transform, stage: Stage, index: number, measured: boolean): PlanProblem[] {
  const at = (key: string) => ['data', 'transforms', String(index), key];
  switch (transform.kind) {
    case 'centerCrop':
    case 'randomCrop': {
      const { size } = stage;
      if (!size || cropFits(transform.size, size)) return [];
      // Measured images have no line in the config to point at: the message names the transform and the fix.
      const what = measured ? `data.transforms[${index}] (${transform.kind})` : `data.transforms[${index}]`;
      const fix = measured ? ' (resize first)' : '';
      return [
        { path: at('size'), message: `${what} crops ${transform.size.join('x')} out of ${size.join('x')} images: the crop must fit inside the image${fix}` },
      ];
    }
    case 'normalize': {
      // The load-time wording has always said "values", even for one (test/data-batches.test.ts holds it to that).
      const values = (count: number) => (measured ? `${count} values` : plural(count, 'value'));
      return (['mean', 'std'] as const)
        .filter((key) => transform[key].length !== stage.channels)
        .map((key) => ({
          path: at(key),
          message: `data.transforms[${index}].${key} has ${values(transform[key].length)} but the images have ${plural(stage.channels, 'channel')} at this point: give one value per channel`,
        }));
    }
    default:
      return [];
  }
}
