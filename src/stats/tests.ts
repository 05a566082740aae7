// Summaries and tests for comparing a few seeds per arm: mean, sample standard deviation, the 95% Student t
// interval, the paired t-test with Cohen's d_z, Welch's t-test, and the exact sign-flip (paired permutation) test,
// which needs no normality, with a caveat for very small n: with n pairs its smallest two-sided p-value is
// 2 / 2^n (0.0625 at n = 5), so at n <= 5 it can never reach 0.05. Holm's step-down adjustment for several
// comparisons against one baseline. test/stats.test.ts checks them against scipy.
import { studentTQuantile, studentTTail } from './distributions.ts';

const finite = (xs: readonly number[]) => xs.every(Number.isFinite);

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** The sample standard deviation (n - 1 in the denominator, numpy's ddof=1); NaN below 2 values. */
export function sampleSd(xs: readonly number[]): number {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
}

export interface Summary {
  n: number;
  mean: number;
  /** Sample standard deviation. */
  sd: number;
  /** Standard error of the mean, sd / sqrt(n). */
  se: number;
  /** The confidence interval of the mean: mean +- t_{(1+level)/2, n-1} * se (NaN below 2 values). */
  low: number;
  high: number;
  level: number;
}

/** Mean, sample sd and the Student t confidence interval of the mean (default 95%). */
export function summarize(xs: readonly number[], level = 0.95): Summary {
  const n = xs.length;
  const m = mean(xs);
  const sd = sampleSd(xs);
  const se = sd / Math.sqrt(n);
  const half = n >= 2 && Number.isFinite(se) ? studentTQuantile((1 + level) / 2, n - 1) * se : NaN;
  return { n, mean: m, sd, se, low: m - half, high: m + half, level };
}

/** A two-sided p-value of t with df degrees of freedom. */
export function twoSidedP(t: number, df: number): number {
  if (Number.isNaN(t)) return NaN;
  return Math.min(1, 2 * studentTTail(t, df));
}

export interface PairedTTest {
  n: number;
  /** Mean of the differences x_i - y_i. */
  meanDiff: number;
  /** Sample sd of the differences. */
  sdDiff: number;
  t: number;
  df: number;
  /** Two-sided. */
  p: number;
  /** The confidence interval of the mean difference. */
  low: number;
  high: number;
  /** Cohen's d_z: mean difference over the sd of the differences. */
  dz: number;
}

function checkPairs(x: readonly number[], y: readonly number[]): number[] {
  if (x.length !== y.length) throw new RangeError(`paired samples need equal lengths, not ${x.length} and ${y.length}`);
  if (!finite(x) || !finite(y)) throw new RangeError('paired samples must be finite numbers');
  return x.map((v, i) => v - y[i]!);
}

/** The paired t-test of x against y (scipy.stats.ttest_rel(x, y)): H0 mean(x - y) = 0. */
export function pairedTTest(x: readonly number[], y: readonly number[], level = 0.95): PairedTTest {
  const d = checkPairs(x, y);
  const s = summarize(d, level);
  const t = s.mean / s.se;
  return { n: s.n, meanDiff: s.mean, sdDiff: s.sd, t, df: s.n - 1, p: twoSidedP(t, s.n - 1), low: s.low, high: s.high, dz: s.mean / s.sd };
}

export interface WelchTTest {
  /** mean(x) - mean(y). */
  diff: number;
  t: number;
  /** The Welch-Satterthwaite degrees of freedom. */
  df: number;
  p: number;
  low: number;
  high: number;
}

/** Welch's unequal-variance t-test (scipy.stats.ttest_ind(x, y, equal_var=False)). */
export function welchTTest(x: readonly number[], y: readonly number[], level = 0.95): WelchTTest {
  if (x.length < 2 || y.length < 2) throw new RangeError(`Welch's test needs at least 2 values per sample, not ${x.length} and ${y.length}`);
  const vx = sampleSd(x) ** 2 / x.length;
  const vy = sampleSd(y) ** 2 / y.length;
  const se = Math.sqrt(vx + vy);
  const diff = mean(x) - mean(y);
  const t = diff / se;
  // Both samples constant: no variance to test against (scipy gives t = +-inf, p = 0, or NaN for equal means).
  if (se === 0) return { diff, t, df: NaN, p: diff === 0 ? NaN : 0, low: diff, high: diff };
  const df = (vx + vy) ** 2 / (vx ** 2 / (x.length - 1) + vy ** 2 / (y.length - 1));
  const half = studentTQuantile((1 + level) / 2, df) * se;
  return { diff, t, df, p: twoSidedP(t, df), low: diff - half, high: diff + half };
}

export interface SignFlipTest {
  /** Two-sided: the share of sign assignments whose |mean difference| is at least the observed one. */
  p: number;
  /** Every one of the 2^n assignments was counted (false: a seeded random sample of them). */
  exact: boolean;
  /** Assignments counted. */
  count: number;
  /** The smallest p this test can give at this n (2 / 2^n exact). */
  minP: number;
}

/** The largest n whose 2^n sign assignments are all enumerated (65,536 at 16). */
export const EXACT_SIGN_FLIP_MAX = 16;

/**
 * The paired permutation test of x against y: under H0 each difference x_i - y_i is as likely to have either sign,
 * so the observed |sum of differences| is compared with its value under every assignment of signs (exact for
 * n <= 16, as scipy.stats.permutation_test(..., permutation_type='samples', n_resamples=inf) with the mean
 * difference as statistic); above that, `samples` seeded random assignments (the observed one counted in).
 */
export function signFlipTest(x: readonly number[], y: readonly number[], options: { samples?: number; seed?: number } = {}): SignFlipTest {
  const d = checkPairs(x, y);
  const n = d.length;
  if (n === 0) return { p: NaN, exact: true, count: 0, minP: NaN };
  const observed = Math.abs(d.reduce((a, b) => a + b, 0));
  // Sums equal up to rounding count as equal (scipy compares with a relative tolerance too).
  const threshold = observed * (1 - 1e-12) - 1e-300;
  if (n <= EXACT_SIGN_FLIP_MAX) {
    const total = 2 ** n;
    let extreme = 0;
    for (let mask = 0; mask < total; mask++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += mask & (1 << i) ? -d[i]! : d[i]!;
      if (Math.abs(sum) >= threshold) extreme++;
    }
    return { p: extreme / total, exact: true, count: total, minP: 2 / total };
  }
  const samples = options.samples ?? 100_000;
  let state = (options.seed ?? 0x5eed) >>> 0 || 1;
  const random = () => {
    // xorshift32: a leaf needs no generator from elsewhere.
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  let extreme = 1;
  for (let s = 1; s < samples; s++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += random() & 1 ? -d[i]! : d[i]!;
    if (Math.abs(sum) >= threshold) extreme++;
  }
  return { p: extreme / samples, exact: false, count: samples, minP: 1 / samples };
}

/** Holm's step-down adjustment of m p-values (the family-wise error over all of them); NaN stays NaN. */
export function holm(ps: readonly number[]): number[] {
  const order = ps
    .map((p, i) => ({ p, i }))
    .filter(({ p }) => !Number.isNaN(p))
    .sort((a, b) => a.p - b.p);
  const m = order.length;
  const out = ps.map(() => NaN);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    out[i] = running;
  });
  return out;
}
