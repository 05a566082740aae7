// src/stats against scipy 1.17.1: every expected number below was computed once and pinned, by
//   python3 -c 'import scipy.stats as st; print([st.t.ppf(0.975, df) for df in range(1, 31)])'  (and 0.995)
// and the other scipy.stats calls named beside each value (ttest_rel, ttest_ind(equal_var=False),
// permutation_test(..., permutation_type='samples', n_resamples=inf) with the mean difference as statistic).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { logGamma, regularizedIncompleteBeta, studentTCdf, studentTQuantile, studentTTail } from '../src/stats/distributions.ts';
import { holm, mean, pairedTTest, sampleSd, signFlipTest, summarize, welchTTest } from '../src/stats/tests.ts';

/** |actual - expected| <= tol * max(1, |expected|). */
function close(actual: number, expected: number, tol: number, what = ''): void {
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what}: ${actual} is not ${expected} (tol ${tol})`);
}

// st.t.ppf(0.975, df) and st.t.ppf(0.995, df) for df = 1..30.
const Q975 = [
  12.706204736174694, 4.302652729749462, 3.1824463052837078, 2.7764451051977934, 2.5705818356363146, 2.4469118511449786, 2.364624251592784, 2.306004135204166,
  2.262157162798205, 2.228138851986274, 2.200985160091639, 2.1788128296672284, 2.1603686564627913, 2.144786687917804, 2.131449545559776, 2.1199052992212546,
  2.1098155778333156, 2.1009220402410382, 2.0930240544083087, 2.085963447265864, 2.0796138447276795, 2.0738730679040254, 2.0686576104190486, 2.0638985616280245,
  2.0595385527532972, 2.0555294386428735, 2.0518305164802846, 2.0484071417952454, 2.045229642132703, 2.0422724563012378,
];
const Q995 = [
  63.656741162871526, 9.924843200918287, 5.840909309733355, 4.604094871349992, 4.032142983555228, 3.7074280213248065, 3.4994832973504924, 3.355387331333395,
  3.249835541592126, 3.16927267261695, 3.1058065155392804, 3.0545395893929013, 3.012275838716578, 2.9768427343708344, 2.946712883475238, 2.9207816224251,
  2.8982305196774183, 2.8784404727386077, 2.8609346064649794, 2.8453397097861077, 2.83135955802305, 2.8187560606001423, 2.807335683769999, 2.796939504774456,
  2.78743581367697, 2.778714533329683, 2.770682957122211, 2.763262455461444, 2.756385903670605, 2.7499956535672254,
];

describe("Student's t distribution", () => {
  test('quantiles at df 1..30 match scipy to 1e-10', () => {
    for (let df = 1; df <= 30; df++) {
      close(studentTQuantile(0.975, df), Q975[df - 1]!, 1e-10, `t(0.975, ${df})`);
      close(studentTQuantile(0.995, df), Q995[df - 1]!, 1e-10, `t(0.995, ${df})`);
      close(studentTQuantile(0.025, df), -Q975[df - 1]!, 1e-10, `t(0.025, ${df})`);
    }
    // st.t.ppf at (0.9, 2.5), (0.05, 7), (0.999, 3), (0.6, 100), (0.975, 1000): fractional and large df.
    const more: [number, number, number][] = [
      [0.9, 2.5, 1.7302509288071766],
      [0.05, 7, -1.8945786050900066],
      [0.999, 3, 10.214531852407383],
      [0.6, 100, 0.25402218245822766],
      [0.975, 1000, 1.9623390808264083],
    ];
    for (const [p, df, expected] of more) close(studentTQuantile(p, df), expected, 1e-10, `t(${p}, ${df})`);
    assert.equal(studentTQuantile(0.5, 4), 0);
    assert.throws(() => studentTQuantile(1, 4), RangeError);
    assert.throws(() => studentTQuantile(0.5, 0), RangeError);
  });

  test('CDF and tails match scipy', () => {
    // st.t.cdf(t, df)
    const cdf: [number, number, number][] = [
      [2.0, 5, 0.9490302605850708],
      [-1.3, 3, 0.14223375436394853],
      [0.1, 1, 0.5317255174305535],
      [10, 4, 0.999718998188642],
      [-25, 2, 0.000798085105705167],
      [3.5, 17.3, 0.9986576058147428],
    ];
    for (const [t, df, expected] of cdf) close(studentTCdf(t, df), expected, 1e-12, `cdf(${t}, ${df})`);
    // st.t.sf: small tails keep their relative precision.
    close(studentTTail(30, 5) / 3.8593243102480265e-7, 1, 1e-10, 'sf(30, 5)');
    close(studentTTail(8, 10) / 5.887471394833083e-6, 1, 1e-10, 'sf(8, 10)');
    for (let t = -5; t <= 5; t += 0.5) close(studentTCdf(t, 3) + studentTCdf(-t, 3), 1, 1e-14, 'symmetry');
  });

  test('ln Gamma and the incomplete beta function on known values', () => {
    close(logGamma(1), 0, 1e-14);
    close(logGamma(0.5), Math.log(Math.sqrt(Math.PI)), 1e-14);
    close(logGamma(10), Math.log(362880), 1e-14);
    close(logGamma(0.1), Math.log(9.513507698668732), 1e-13);
    // I_x(1, 1) = x, I_x(a, 1) = x^a, I_x(1, b) = 1 - (1 - x)^b.
    close(regularizedIncompleteBeta(0.3, 1, 1), 0.3, 1e-14);
    close(regularizedIncompleteBeta(0.3, 2.5, 1), 0.3 ** 2.5, 1e-14);
    close(regularizedIncompleteBeta(0.7, 1, 4), 1 - 0.3 ** 4, 1e-14);
  });
});

describe('summaries and tests', () => {
  const x = [0.218, 0.165, 0.11, 0.141, 0.19];
  const y = [0.086, 0.128, 0.131, 0.095, 0.122];

  test('mean, sample sd and the 95% t interval (scipy.stats.t.interval(0.95, n-1, mean, sem))', () => {
    close(mean(x), 0.1648, 1e-15);
    close(sampleSd(x), 0.04193685729760875, 1e-12, 'sd (np.std ddof=1)');
    const s = summarize(x);
    close(s.low, 0.11272851409575041, 1e-10, 'low');
    close(s.high, 0.2168714859042496, 1e-10, 'high');
    assert.equal(s.n, 5);
    const one = summarize([3]);
    assert.equal(one.mean, 3);
    assert.ok(Number.isNaN(one.sd) && Number.isNaN(one.low));
  });

  test('the paired t-test and d_z (scipy.stats.ttest_rel)', () => {
    const r = pairedTTest(x, y);
    close(r.t, 2.117694669314353, 1e-12, 't');
    close(r.p, 0.1016055407732095, 1e-10, 'p');
    assert.equal(r.df, 4);
    close(r.low, -0.01630004709388458, 1e-10, 'low');
    close(r.high, 0.12110004709388458, 1e-10, 'high');
    close(r.dz, 0.9470618472351662, 1e-12, 'dz');
    // n = 10: ttest_rel gives t 2.3946843788558656, p 0.04024711823064001, CI [0.001328213944796982, 0.046671786055203085].
    const x10 = [0.61, 0.72, 0.55, 0.8, 0.66, 0.59, 0.7, 0.75, 0.68, 0.63];
    const y10 = [0.6, 0.69, 0.58, 0.74, 0.61, 0.6, 0.66, 0.7, 0.69, 0.58];
    const r10 = pairedTTest(x10, y10);
    close(r10.t, 2.3946843788558656, 1e-10, 't10');
    close(r10.p, 0.04024711823064001, 1e-10, 'p10');
    close(r10.low, 0.001328213944796982, 1e-10, 'low10');
    close(r10.high, 0.046671786055203085, 1e-10, 'high10');
    assert.throws(() => pairedTTest([1, 2], [1]), RangeError);
  });

  test("Welch's t-test (scipy.stats.ttest_ind(equal_var=False))", () => {
    const r = welchTTest(x, y);
    close(r.t, 2.51008063988474, 1e-12, 't');
    close(r.df, 5.80857358978046, 1e-12, 'df');
    close(r.p, 0.04718813129341592, 1e-10, 'p');
    close(r.low, 0.0009078448342590487, 1e-10, 'low');
    close(r.high, 0.10389215516574099, 1e-10, 'high');
    const a = [45.1, 44.9, 36.5, 40.8, 49.6, 46.9, 43.9];
    const b = [41.2, 46.0, 30.1, 41.1, 48.0, 40.2, 39.7, 50.3];
    const r2 = welchTTest(a, b);
    close(r2.t, 0.6898908507067587, 1e-12, 't2');
    close(r2.df, 12.341356489489094, 1e-12, 'df2');
    close(r2.p, 0.5030299095912947, 1e-10, 'p2');
    close(r2.low, -4.043855594170474, 1e-10, 'low2');
    close(r2.high, 7.80814130845618, 1e-10, 'high2');
  });

  test('constant samples: t = +-inf with p = 0, or NaN for no difference (as scipy)', () => {
    assert.deepEqual([welchTTest([1, 1, 1], [2, 2, 2]).t, welchTTest([1, 1, 1], [2, 2, 2]).p], [-Infinity, 0]);
    assert.ok(Number.isNaN(welchTTest([1, 1, 1], [1, 1, 1]).p));
    assert.deepEqual([pairedTTest([1, 2, 3], [0, 1, 2]).t, pairedTTest([1, 2, 3], [0, 1, 2]).p], [Infinity, 0]);
    assert.ok(Number.isNaN(pairedTTest([1, 2, 3], [1, 2, 3]).p));
  });

  test('the exact sign-flip test (scipy.stats.permutation_test, permutation_type=samples)', () => {
    const r = signFlipTest(x, y);
    assert.deepEqual(r, { p: 0.125, exact: true, count: 32, minP: 0.0625 });
    assert.equal(signFlipTest([1.2, 0.4, -0.3, 2.2, 1.1, 0.9], [0.1, 0.2, 0.1, 0.3, 0.5, -0.2]).p, 0.09375);
    const x10 = [0.61, 0.72, 0.55, 0.8, 0.66, 0.59, 0.7, 0.75, 0.68, 0.63];
    const y10 = [0.6, 0.69, 0.58, 0.74, 0.61, 0.6, 0.66, 0.7, 0.69, 0.58];
    assert.equal(signFlipTest(x10, y10).p, 0.056640625);
    // Five differences all of one sign: the smallest p at n = 5, 2/32, above 0.05.
    assert.equal(signFlipTest([1, 2, 3, 4, 5], [0, 0, 0, 0, 0]).p, 0.0625);
    assert.equal(signFlipTest([1, 1], [1, 1]).p, 1, 'no difference');
    // Above 16 pairs a seeded sample of assignments, close to the exact value.
    const big = Array.from({ length: 20 }, (_, i) => Math.sin(i + 1) + 0.3);
    const zero = big.map(() => 0);
    const sampled = signFlipTest(big, zero, { samples: 200_000, seed: 3 });
    assert.equal(sampled.exact, false);
    assert.deepEqual(signFlipTest(big, zero, { samples: 200_000, seed: 3 }), sampled, 'seeded');
    const exact = exactTwoSided(big);
    assert.ok(Math.abs(sampled.p - exact) < 0.005, `${sampled.p} vs ${exact}`);
  });

  test("Holm's adjustment", () => {
    // p sorted 0.01, 0.02, 0.04, 0.3 -> 4*0.01, 3*0.02, max(0.06, 2*0.04), max(0.08, 0.3).
    const adjusted = holm([0.04, 0.01, 0.3, 0.02]);
    [0.08, 0.04, 0.3, 0.06].forEach((expected, i) => close(adjusted[i]!, expected, 1e-15));
    const withNaN = holm([0.5, NaN, 0.6]);
    assert.ok(Number.isNaN(withNaN[1]));
    assert.deepEqual([withNaN[0], withNaN[2]], [1, 1]);
  });
});

/** The exact two-sided sign-flip p of differences d, for checking the sampled one. */
function exactTwoSided(d: number[]): number {
  const observed = Math.abs(d.reduce((a, b) => a + b, 0));
  let extreme = 0;
  for (let mask = 0; mask < 2 ** d.length; mask++) {
    let sum = 0;
    for (let i = 0; i < d.length; i++) sum += mask & (1 << i) ? -d[i]! : d[i]!;
    if (Math.abs(sum) >= observed * (1 - 1e-12)) extreme++;
  }
  return extreme / 2 ** d.length;
}
