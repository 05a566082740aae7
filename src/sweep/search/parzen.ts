// The Parzen estimator of TPE (Bergstra et al. 2011) as Optuna builds it: a mixture with one kernel per observed
// trial and a prior kernel, each kernel a product over the parameters of a truncated normal (float, log-scale
// float in log space, integer as the mass of its unit cell) or a categorical distribution.
import type { Rng } from '../../random/rng.ts';
import { logGaussMass, logNormalPdf } from './normal.ts';
import type { Param } from './space.ts';

export interface ParzenSettings {
  /** The prior kernel's weight against each observation's (Optuna: 1.0). */
  priorWeight: number;
  /** Bandwidths at least range / min(100, 1 + kernels) (Optuna's consider_magic_clip, on). */
  magicClip: boolean;
  /** Let the range's ends count as neighbours of the outermost observations (Optuna's consider_endpoints, off). */
  endpoints: boolean;
}

type Kernels =
  | { kind: 'categorical'; weights: number[][] }
  /** Truncated normals on [low, high] (internal units: log for log-scale); `step` 1 for integers. */
  | { kind: 'numeric'; mus: number[]; sigmas: number[]; low: number; high: number; log: boolean; step: number };

/** Optuna's default observation weights: the newest 25 weigh 1, older ones ramp down linearly. */
export function observationWeights(n: number): number[] {
  if (n < 25) return new Array<number>(n).fill(1);
  const ramp = Array.from({ length: n - 25 }, (_, i) => (n - 25 === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (n - 26)));
  return [...ramp, ...new Array<number>(25).fill(1)];
}

function categoricalKernels(column: number[], choices: number, settings: ParzenSettings): Kernels {
  if (column.length === 0) return { kind: 'categorical', weights: [new Array<number>(choices).fill(1 / choices)] };
  const kernels = column.length + 1;
  const rows = [...column, -1].map((observed) => {
    const row = new Array<number>(choices).fill(settings.priorWeight / kernels);
    if (observed >= 0) row[observed] += 1;
    const sum = row.reduce((a, b) => a + b, 0);
    return row.map((w) => w / (sum === 0 ? 1 : sum));
  });
  return { kind: 'categorical', weights: rows };
}

function numericKernels(column: number[], param: Exclude<Param, { kind: 'categorical' }>, settings: ParzenSettings): Kernels {
  const log = param.kind === 'float' && param.log;
  const step = param.kind === 'int' ? 1 : 0;
  const transform = (v: number) => (log ? Math.log(v) : v);
  const low = transform(param.low - step / 2);
  const high = transform(param.high + step / 2);
  const mus = column.map(transform);
  // Each kernel as wide as the larger gap to its sorted neighbours (the range's ends included).
  const order = mus.map((_, i) => i).sort((a, b) => mus[a] - mus[b]);
  const line = [low, ...order.map((i) => mus[i]), high];
  const sorted = order.map((_, k) => Math.max(line[k + 1] - line[k], line[k + 2] - line[k + 1]));
  if (!settings.endpoints && line.length >= 4) {
    sorted[0] = line[2] - line[1];
    sorted[sorted.length - 1] = line[line.length - 2] - line[line.length - 3];
  }
  const maxSigma = high - low;
  const minSigma = settings.magicClip ? (high - low) / Math.min(100, 1 + column.length + 1) : 1e-12;
  const sigmas = new Array<number>(mus.length);
  order.forEach((i, k) => (sigmas[i] = Math.min(Math.max(sorted[k], minSigma), maxSigma)));
  return { kind: 'numeric', mus: [...mus, 0.5 * (low + high)], sigmas: [...sigmas, high - low], low, high, log, step };
}

/** log of kernel k's density (mass for integers) at the internal value x. */
function kernelLogPdf(kernels: Kernels, k: number, x: number): number {
  if (kernels.kind === 'categorical') return Math.log(kernels.weights[k][x]);
  const { mus, sigmas, low, high, log, step } = kernels;
  const [mu, sigma] = [mus[k], sigmas[k]];
  const truncation = logGaussMass((low - mu) / sigma, (high - mu) / sigma);
  if (step > 0) {
    const left = log ? Math.log(x - step / 2) : x - step / 2;
    const right = log ? Math.log(x + step / 2) : x + step / 2;
    return logGaussMass((left - mu) / sigma, (right - mu) / sigma) - truncation;
  }
  const z = ((log ? Math.log(x) : x) - mu) / sigma;
  return logNormalPdf(z) - Math.log(sigma) - truncation;
}

/** A draw from kernel k (internal value), by rejection: every kernel's mean lies in the range, so most draws land. */
function kernelSample(kernels: Kernels, k: number, rng: Rng): number {
  if (kernels.kind === 'categorical') {
    const u = rng.next();
    const row = kernels.weights[k];
    let cumulative = 0;
    for (let i = 0; i < row.length - 1; i++) if (u < (cumulative += row[i])) return i;
    return row.length - 1;
  }
  const { mus, sigmas, low, high, log, step } = kernels;
  let y = mus[k];
  for (let tries = 0; tries < 1000; tries++) {
    const candidate = mus[k] + sigmas[k] * rng.normal();
    if (candidate >= low && candidate <= high) {
      y = candidate;
      break;
    }
  }
  const value = log ? Math.exp(y) : y;
  if (step === 0) return value;
  const lowest = Math.round(log ? Math.exp(low) + step / 2 : low + step / 2);
  const highest = Math.round(log ? Math.exp(high) - step / 2 : high - step / 2);
  return Math.min(Math.max(lowest + Math.round((value - lowest) / step) * step, lowest), highest);
}

export class ParzenEstimator {
  private readonly weights: number[];
  private readonly kernels: Kernels[];

  /**
   * `observations[i][j]`: trial i's internal value of params[j], trials oldest first (the oldest weigh least
   * when there are more than 25).
   */
  constructor(observations: number[][], params: Param[], settings: ParzenSettings) {
    const weights = observations.length === 0 ? [1] : [...observationWeights(observations.length), settings.priorWeight];
    const total = weights.reduce((a, b) => a + b, 0);
    this.weights = weights.map((w) => w / total);
    this.kernels = params.map((param, j) => {
      const column = observations.map((row) => row[j]);
      return param.kind === 'categorical' ? categoricalKernels(column, param.choices.length, settings) : numericKernels(column, param, settings);
    });
  }

  /** log of the mixture's density at each point (internal values, one per param). */
  logPdf(points: number[][]): number[] {
    return points.map((point) => {
      const terms = this.weights.map((w, k) => Math.log(w) + this.kernels.reduce((sum, kernels, j) => sum + kernelLogPdf(kernels, k, point[j]), 0));
      const max = Math.max(...terms);
      if (max === -Infinity) return -Infinity;
      return max + Math.log(terms.reduce((sum, t) => sum + Math.exp(t - max), 0));
    });
  }

  /** `count` draws: a kernel by its weight, then each param from that kernel. */
  sample(rng: Rng, count: number): number[][] {
    return Array.from({ length: count }, () => {
      const u = rng.next();
      let k = 0;
      for (let cumulative = this.weights[0]; k < this.weights.length - 1 && u >= cumulative; cumulative += this.weights[++k]);
      return this.kernels.map((kernels) => kernelSample(kernels, k, rng));
    });
  }
}
