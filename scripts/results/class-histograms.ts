// Class histograms: the share of generated (and of real) images the classifier puts in each class, per arm.
import { BASELINE_PREFIX } from '../../src/eval/metrics.ts';
import { summarize } from '../../src/stats/tests.ts';
import type { Arms } from './arms.ts';
import type { ComparedEpoch } from './compared-epoch.ts';
import { num, table } from './markdown.ts';
import type { Trial } from './trials.ts';

/** One section per classifier and sample size (class_hist/<tag>/c<id>); columns named by `classNames` if given. */
export function classHistograms(trials: Trial[], arms: Arms, at: ComparedEpoch, classNames: string[] | undefined): string[] {
  const namesAt = (t: Trial) => Object.keys(at.row(t).metrics ?? {});
  const tags = [...new Set(trials.flatMap((t) => namesAt(t).flatMap((n) => /^class_hist\/(.+)\/c\d+$/.exec(n)?.[1] ?? [])))];
  return tags.flatMap((tag) => {
    const prefix = `class_hist/${tag}/c`;
    const idIn = (name: string) => (name.startsWith(prefix) ? [Number(name.slice(prefix.length))] : []);
    const ids = [...new Set(trials.flatMap((t) => namesAt(t).flatMap(idIn)))].sort((a, b) => a - b);
    const rows = arms.names.flatMap((arm) =>
      ['generated', 'real'].map((set) => [
        set === 'generated' ? arm : '',
        set,
        ...ids.map((id) => num(summarize(arms.values(arm, (t) => at.row(t).metrics?.[`${set === 'real' ? BASELINE_PREFIX : ''}${prefix}${id}`] ?? NaN)).mean)),
      ]),
    );
    return [
      `### Class histogram, class_hist/${tag}`,
      '',
      "The share of images the classifier assigns to each class, mean over the arm's seeds: generated, and the second real sample (the floor sample) of the same trials.",
      '',
      ...table([arms.title, 'images', ...ids.map((id) => (classNames ? `${id} ${classNames[id]}` : `c${id}`))], rows),
      '',
    ];
  });
}
