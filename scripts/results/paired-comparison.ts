// Every other arm against the baseline, paired by seed: the mean difference and its 95% interval, the paired
// t-test's p, the exact sign-flip test's p, Cohen's d_z, Holm's adjustment over the arms and Welch's p.
import { holm, pairedTTest, signFlipTest, welchTTest } from '../../src/stats/tests.ts';
import type { Arms } from './arms.ts';
import { interval, num, pValue } from './markdown.ts';
import type { Trial } from './trials.ts';

export const COMPARISON_HEADER = [
  'arm',
  'quantity',
  'pairs',
  'mean diff',
  '95% CI',
  'paired t p',
  'sign-flip p',
  'd_z',
  'Holm t p',
  'Holm sign-flip p',
  'Welch p',
  'significant',
];

/** One row per other arm; what the tables' readers should know (unpairable arms, too few pairs) goes into `notes`. */
export function comparisonRows(arms: Arms, baseline: string, quantity: string, of: (t: Trial) => number, notes: Set<string>): string[][] {
  const base = arms.bySeed(baseline);
  const others = arms.names.filter((a) => a !== baseline);
  const tests = others.map((arm) => {
    const mine = arms.bySeed(arm);
    if (!base || !mine) {
      notes.add(`${!base ? baseline : arm}: a seed repeats in the arm (another key varies in it), so it cannot be paired: group by more keys (--group a,b)`);
      return { arm, pairs: 0 };
    }
    const seeds = [...mine.keys()].filter((s) => base.has(s) && Number.isFinite(of(mine.get(s)!)) && Number.isFinite(of(base.get(s)!)));
    const x = seeds.map((s) => of(mine.get(s)!));
    const y = seeds.map((s) => of(base.get(s)!));
    if (seeds.length < 2) return { arm, pairs: seeds.length };
    const xs = arms.values(arm, of);
    const ys = arms.values(baseline, of);
    return {
      arm,
      pairs: seeds.length,
      t: pairedTTest(x, y),
      flip: signFlipTest(x, y),
      welch: xs.length >= 2 && ys.length >= 2 ? welchTTest(xs, ys) : undefined,
    };
  });
  const adjustedT = holm(tests.map((r) => r.t?.p ?? NaN));
  const adjustedFlip = holm(tests.map((r) => r.flip?.p ?? NaN));
  return tests.map((r, i) => {
    if (!r.t) return [r.arm, quantity, String(r.pairs), '–', '–', '–', '–', '–', '–', '–', '–', 'too few pairs'];
    if (r.flip!.minP > 0.05)
      notes.add(`with ${r.pairs} pairs the exact sign-flip test cannot go below p = ${pValue(r.flip!.minP)}: it cannot reach 0.05 at any effect`);
    const byT = adjustedT[i]! < 0.05;
    const byFlip = adjustedFlip[i]! < 0.05;
    return [
      r.arm,
      quantity,
      String(r.pairs),
      num(r.t.meanDiff),
      interval(r.t.low, r.t.high),
      pValue(r.t.p),
      `${pValue(r.flip!.p)}${r.flip!.exact ? '' : ' (sampled)'}`,
      num(r.t.dz),
      pValue(adjustedT[i]!),
      pValue(adjustedFlip[i]!),
      r.welch ? pValue(r.welch.p) : '–',
      byT && byFlip ? 'yes (both)' : byT ? 't only' : byFlip ? 'sign-flip only' : 'no',
    ];
  });
}
