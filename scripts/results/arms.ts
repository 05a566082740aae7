// Arms: the trials that share the values of the --group keys (or a run's label), named for the tables, with each
// arm's trials by seed for the paired comparisons.
import { UserError } from '../../src/errors.ts';
import type { Trial } from './trials.ts';

export interface Arms {
  /** In the order of their first trial. */
  names: string[];
  /** The tables' heading for the arm column: the group keys, or "run". */
  title: string;
  members(arm: string): Trial[];
  /** The arm's finite values of a quantity, one per trial that has one. */
  values(arm: string, of: (t: Trial) => number): number[];
  /** seed -> trial of an arm; undefined when a seed repeats (another swept key varies within the arm). */
  bySeed(arm: string): Map<number, Trial> | undefined;
}

const showValue = (value: unknown) =>
  value !== null && typeof value === 'object' ? JSON.stringify(value).replace(/"/g, '').replace(/,/g, ', ') : String(value);

/** Without group keys, each trial's label is its arm; class ids are named with `classNames` ("7 Sneaker"). */
export function groupIntoArms(trials: Trial[], groupKeys: string[], classNames: string[] | undefined): Arms {
  const armOf = (trial: Trial): string => {
    if (groupKeys.length === 0) return String(trial.params.label);
    return groupKeys
      .map((key) => {
        const value = trial.params[key];
        if (key === 'data.source.classes' && Array.isArray(value) && classNames) return value.map((id) => `${id} ${classNames[id as number]}`).join(', ');
        return showValue(value);
      })
      .join(' / ');
  };
  const members = new Map<string, Trial[]>();
  for (const t of trials) {
    const arm = armOf(t);
    if (!members.has(arm)) members.set(arm, []);
    members.get(arm)!.push(t);
  }
  const membersOf = (arm: string) => members.get(arm) ?? [];
  return {
    names: [...members.keys()],
    title: groupKeys.length ? groupKeys.join(' / ') : 'run',
    members: membersOf,
    values: (arm, of) => membersOf(arm).map(of).filter(Number.isFinite),
    bySeed: (arm) => {
      const map = new Map<number, Trial>();
      for (const t of membersOf(arm)) {
        if (map.has(t.seed)) return undefined;
        map.set(t.seed, t);
      }
      return map;
    },
  };
}

/** The arm --baseline names, white space aside (arm names have a space after each comma). */
export function findBaseline(arms: Arms, wanted: string): string {
  const baseline = arms.names.find((a) => a === wanted || a.replace(/\s/g, '') === wanted.replace(/\s/g, ''));
  if (baseline === undefined) throw new UserError(`--baseline ${wanted}: no such arm; the arms are ${arms.names.map((a) => `'${a}'`).join(', ')}`);
  return baseline;
}
