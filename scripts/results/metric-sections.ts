// Per metric: mean ± sd and the 95% interval per arm, the floor beside it and, for distances, the per-trial ratio
// to it; with a baseline, the paired comparisons (and those of the D outputs), then the notes they raised.
import { BASELINE_PREFIX } from '../../src/eval/metrics.ts';
import { summarize } from '../../src/stats/tests.ts';
import type { Arms } from './arms.ts';
import type { ComparedEpoch } from './compared-epoch.ts';
import { interval, meanSd, table } from './markdown.ts';
import { DESCRIPTIVE, directionOf, DISTANCE } from './metric-kinds.ts';
import { COMPARISON_HEADER, comparisonRows } from './paired-comparison.ts';
import type { Trial } from './trials.ts';

interface Sections {
  trials: Trial[];
  arms: Arms;
  at: ComparedEpoch;
  baseline: string | undefined;
  /** Raised by the comparisons, printed once after all of them. */
  notes: Set<string>;
}

export function metricSections(trials: Trial[], arms: Arms, at: ComparedEpoch, metricColumns: string[], baseline: string | undefined): string[] {
  const sections: Sections = { trials, arms, at, baseline, notes: new Set() };
  const out = metricColumns.filter((n) => !DESCRIPTIVE.test(n)).flatMap((name) => metricSection(name, sections));
  if (baseline !== undefined) out.push(...dOutputComparisons(sections, baseline));
  if (sections.notes.size) out.push(...[...sections.notes].map((n) => `Note: ${n}.`), '');
  return out;
}

function metricSection(name: string, { trials, arms, at, baseline, notes }: Sections): string[] {
  const hasFloor = trials.some((t) => Number.isFinite(at.floor(t, name)));
  const distance = DISTANCE.test(name) && hasFloor;
  const out = [`### ${name}`, ''];
  out.push(
    `${directionOf(name)}.` +
      (hasFloor ? ` Floor: ${BASELINE_PREFIX}${name}, the same measure on a second real sample of the same size (per trial; mean over the arm here).` : '') +
      (distance ? " x floor: each trial's value divided by its own floor, then summarised (left out where a floor is <= 0)." : '') +
      " 95% CI: Student t interval of the mean over the arm's seeds.",
    '',
  );
  const header = [arms.title, 'seeds', 'mean ± sd', '95% CI', ...(hasFloor ? ['floor'] : []), ...(distance ? ['x floor (mean ± sd)', 'x floor 95% CI'] : [])];
  const rows = arms.names.map((arm) => {
    const values = arms.values(arm, (t) => at.value(t, name));
    const s = summarize(values);
    const row = [arm, String(values.length), meanSd(values), interval(s.low, s.high)];
    if (hasFloor) row.push(meanSd(arms.values(arm, (t) => at.floor(t, name))));
    if (distance) {
      const ratios = arms.values(arm, (t) => at.ratio(t, name));
      const r = summarize(ratios);
      row.push(ratios.length ? meanSd(ratios) : '–', interval(r.low, r.high));
    }
    return row;
  });
  out.push(...table(header, rows), '');
  if (baseline !== undefined && arms.names.length > 1) {
    const others = arms.names.length - 1;
    out.push(
      `Against ${baseline}, paired by seed: difference = arm - baseline, its mean and 95% t interval; p-values two-sided; ` +
        `Holm adjusts each test's p-values over the ${others} comparison${others === 1 ? '' : 's'} with the baseline; ` +
        'significant: Holm p < 0.05 by the paired t-test, the sign-flip test, or both (no: neither).',
      '',
    );
    const compared = [
      ...comparisonRows(arms, baseline, 'value', (t) => at.value(t, name), notes),
      ...(distance ? comparisonRows(arms, baseline, 'x floor', (t) => at.ratio(t, name), notes) : []),
    ];
    out.push(...table(COMPARISON_HEADER, compared), '');
  }
  return out;
}

/** D's mean outputs on real and generated images (epoch means), against the baseline. */
function dOutputComparisons({ trials, arms, at, notes }: Sections, baseline: string): string[] {
  return (['dReal', 'dFake'] as const)
    .filter((loss) => trials.some((t) => Number.isFinite(at.value(t, loss))))
    .flatMap((loss) => [
      `### ${loss} (epoch mean) against ${baseline}`,
      '',
      ...table(
        COMPARISON_HEADER,
        comparisonRows(arms, baseline, 'value', (t) => at.value(t, loss), notes),
      ),
      '',
    ]);
}
