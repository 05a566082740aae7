// What a report page is given: built at report time from a run or sweep directory (src/report/), written
// into data.js as a global, and read by the page (src/report/page/). Types only, so both sides share them.
import type { PixelScale } from '../render/grid.ts';

/** The global that data.js assigns and the page reads. */
export const REPORT_GLOBAL = 'DCGAN_REPORT';
/** The global that each models/<id>.js adds its generator to. */
export const MODELS_GLOBAL = 'DCGAN_MODELS';

/** Loss lines of metrics.jsonl, by column. */
export interface LossSeries {
  step: number[];
  epoch: number[];
  lossD: number[];
  lossG: number[];
  dReal: number[];
  dFake: number[];
}

/** One quality metric over the evaluated epochs, with the real-vs-real value at each (the floor). */
export interface MetricSeries {
  name: string;
  values: (number | null)[];
  floor: (number | null)[];
}

/** A generator the page can load: models/<id>.js. */
export interface ModelChoice {
  id: string;
  label: string;
  script: string;
  epoch: number;
}

/** A generator in a models/<id>.js file: the LayersModel's model.json parts and weights.bin in base64. */
export interface EmbeddedModel {
  modelTopology: object;
  weightSpecs: unknown[];
  weightsBase64: string;
}

export interface NearestItem {
  /** A PNG strip: the generated sample, then its nearest training images, nearest first. */
  src: string;
  /** Mean squared pixel distance (pixels in [0, 1]) of each neighbour. */
  distances: number[];
}

export interface RunReportData {
  kind: 'run';
  experiment: string;
  runId: string;
  status: string;
  /** The error of a failed run, or why a running one is taken to have crashed. */
  statusDetail: string | null;
  /** Label and value rows: epochs, backend, versions, wall time, dataset, ... */
  facts: [string, string][];
  warnings: string[];
  configYaml: string;
  steps: LossSeries;
  epochs: LossSeries;
  evals: { epoch: number[]; metrics: MetricSeries[] };
  /** The fixed-noise grid's spread per epoch as a share of real images' (the collapse warning's measures), and the warning's thresholds. */
  spread: { epoch: number[]; pixels: number[]; colours: number[]; thresholds: { pixels: number; colours: number } } | null;
  best: { metric: string; value: number; epoch: number } | null;
  /** Every sample grid, the untrained one as epoch 0. */
  samples: { epoch: number; src: string }[];
  generator: { latentDim: number; scale: PixelScale; seed: number; count: number; models: ModelChoice[] } | null;
  nearest: { model: string; seed: number; items: NearestItem[] } | null;
}

export type CellValue = string | number | null;

export interface SweepTrialRow {
  index: number;
  name: string;
  status: string;
  /** The swept values, objects as JSON text. */
  values: Record<string, CellValue>;
  /** Final losses, the last quality metrics and the best checkpoint's value, by name. */
  metrics: Record<string, number>;
  epochsDone: number;
  wallSeconds: number | null;
  reason: string | null;
  /** The trial's own report, relative to the sweep report. */
  report: string | null;
  /** Its sample grids by epoch (0: untrained), relative to the sweep report. */
  samples: Record<number, string>;
}

export interface SweepReportData {
  kind: 'sweep';
  experiment: string;
  sweepId: string;
  status: string;
  facts: [string, string][];
  parameters: string[];
  /** Metric names in the order the table and the parallel-coordinates choice show them. */
  metrics: string[];
  /** The metric the parallel coordinates start with. */
  defaultMetric: string | null;
  maxEpoch: number;
  trials: SweepTrialRow[];
}
