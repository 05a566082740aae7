// The plain data every table is made from: trials, each a list of per-epoch rows. Numbers are kept to 7
// significant digits, what --jsonl/--csv store, so tables from the runs and from the raw data agree.
import { IDX_DATASETS } from '../../src/datasets/catalog.ts';

export const LOSSES = ['lossD', 'lossG', 'dReal', 'dFake'] as const;
export type Loss = (typeof LOSSES)[number];
export const isLoss = (name: string): name is Loss => LOSSES.includes(name as Loss);

export interface EpochRow {
  epoch: number;
  /** Steps done at the epoch's end. */
  step: number | null;
  losses: Record<Loss, number> | null;
  /** The evaluation at this epoch (train.eval), every metric and floor; null where there was none. */
  metrics: Record<string, number> | null;
}

export interface Trial {
  trial: string;
  status: string;
  /** The swept values and the --group keys' values. */
  params: Record<string, unknown>;
  seed: number;
  /** data.source.kind: names the classes of a named dataset. */
  source: string;
  runDir: string | null;
  rows: EpochRow[];
}

export const compact = (x: number | null | undefined): number => (x === null || x === undefined ? NaN : Number.isFinite(x) ? Number(x.toPrecision(7)) : x);
export const compactLosses = (from: Record<Loss, number | null>): Record<Loss, number> =>
  Object.fromEntries(LOSSES.map((k) => [k, compact(from[k])])) as Record<Loss, number>;
export const compactMetrics = (values: Record<string, number | null>): Record<string, number> =>
  Object.fromEntries(Object.entries(values).map(([k, v]) => [k, compact(v)]));

/** A loss or a metric of a row; NaN where the row, or the value, is missing. */
export const valueIn = (row: EpochRow | undefined, name: string): number => (isLoss(name) ? row?.losses?.[name] : row?.metrics?.[name]) ?? NaN;

/** Every metric name in any row of the trials. */
export const metricNames = (trials: Trial[]): string[] => [...new Set(trials.flatMap((t) => t.rows.flatMap((r) => Object.keys(r.metrics ?? {}))))];

/** Class names for a named dataset's class ids (data.source.classes), e.g. "7 Sneaker". */
export function classNamesOf(trial: Trial): string[] | undefined {
  const named = trial.source === 'fashionMnist' ? IDX_DATASETS['fashion-mnist'] : trial.source === 'mnist' ? IDX_DATASETS.mnist : undefined;
  return named?.classNames;
}
