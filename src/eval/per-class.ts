// Per-class Frechet distance of a generator that draws every class: for each class k, the generated images the
// classifier assigns to k against the real images it assigns to k. Per-class models (data.source.classes) are
// measured against their class's real images; this puts an all-class model's classes on the same scale, so the
// two designs compare class by class (the lesson's second exercise). FD is biased upwards at small n, so each
// class is compared at one sample size m, the smallest of its counts in the generated set and in each real sample
// (the first m images of each, in their sets' seeded order), and its real-vs-real floor is taken at the same m.
import { frechetDistance } from './frechet.ts';
import { type Features, selectRows } from './linalg.ts';

/** One image set's classifier features and its predicted class per image (the same order). */
export interface Classified {
  features: Features;
  predicted: Int32Array;
}

export interface ClassFrechet {
  /** The class id. */
  id: number;
  /** Images per side: the smallest count of the class in the generated set, the reference and the second real sample. */
  count: number;
  /** FD of the generated images of the class against the reference's. */
  distance: number;
  /** FD of the second real sample's images of the class against the reference's; absent without a second sample. */
  floor?: number;
}

/** Indices of the images predicted as each class, in order. */
function indicesByClass(predicted: Int32Array, classes: number): number[][] {
  const byClass = Array.from({ length: classes }, () => [] as number[]);
  predicted.forEach((id, i) => byClass[id]!.push(i));
  return byClass;
}

/** Each class with at least `minCount` images on every side, compared at its smallest count. */
export function perClassFrechet(
  generated: Classified,
  reference: Classified,
  second: Classified | undefined,
  classes: number,
  minCount: number,
): ClassFrechet[] {
  const sides = [generated, reference, ...(second ? [second] : [])].map((set) => indicesByClass(set.predicted, classes));
  const out: ClassFrechet[] = [];
  for (let id = 0; id < classes; id++) {
    const count = Math.min(...sides.map((side) => side[id]!.length));
    if (count < minCount) continue;
    const rows = (set: Classified, side: number) => selectRows(set.features, sides[side]![id]!.slice(0, count));
    const referenceRows = rows(reference, 1);
    out.push({
      id,
      count,
      distance: frechetDistance(rows(generated, 0), referenceRows),
      ...(second ? { floor: frechetDistance(rows(second, 2), referenceRows) } : {}),
    });
  }
  return out;
}
