// What a metric's name says about it: whether it is a distance (with a ratio to its floor), which way is better,
// and whether it is a summary or a detail (per level, class or block).
import { BASELINE_PREFIX } from '../../src/eval/metrics.ts';
import type { EpochRow } from './trials.ts';

// Distances whose real-vs-real floor is a positive bias, so "x floor" means something. Not KID: it is unbiased, its
// floor is 0 in expectation (noise either side at n = 1000), and a ratio to it is noise; read KID against its floor.
export const DISTANCE = /^(fd|fd_class|swd|class_tv|class_max_gap)\//;
const LOWER_BETTER = /^(fd|fd_class|kid|swd|class_tv|class_max_gap|dead_units|dead_cells)\//;
const NEAR_FLOOR = /^background\//;
const HIGHER_BETTER = /^(precision|recall|class_share)\//;
/** Shown in the overview, not analysed: a property of the real data, the same for every trial on it. */
export const DESCRIPTIVE = /^background_area\//;

/** Per-level, per-class and per-block values are details: the tables show the summary names (and the histogram). */
export const isSummaryName = (name: string) => !/\/(r\d+|c\d+|block\d+)$/.test(name);

export function directionOf(name: string): string {
  if (LOWER_BETTER.test(name)) return 'lower is better';
  if (HIGHER_BETTER.test(name)) return 'higher is better';
  if (NEAR_FLOOR.test(name)) return "closer to the real images' value (the floor column) is better";
  return 'no better direction';
}

/** The tables' metrics: the summary names in the rows compared, not floors or histograms; only `wanted`'s families if any. */
export function metricColumns(rows: EpochRow[], wanted: string[]): string[] {
  return [
    ...new Set(
      rows.flatMap((row) =>
        Object.keys(row.metrics ?? {}).filter(
          (name) =>
            !name.startsWith(BASELINE_PREFIX) &&
            isSummaryName(name) &&
            !name.startsWith('class_hist/') &&
            (wanted.length === 0 || wanted.some((w) => name.startsWith(`${w}/`))),
        ),
      ),
    ),
  ];
}
