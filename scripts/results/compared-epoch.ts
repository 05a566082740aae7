// The epoch each trial is compared at (--epoch common|last|N), and the trial's values, floors and ratios there.
import { UserError } from '../../src/errors.ts';
import { BASELINE_PREFIX } from '../../src/eval/metrics.ts';
import { valueIn, type EpochRow, type Trial } from './trials.ts';

export interface ComparedEpoch {
  epochOf: Map<Trial, number>;
  /** Whether any trial has an evaluation: then the epochs compared are evaluation epochs, else epoch lines. */
  anyEval: boolean;
  row(t: Trial): EpochRow;
  /** A loss or a metric; NaN where the trial has none. */
  value(t: Trial, name: string): number;
  /** The metric's real-vs-real floor. */
  floor(t: Trial, name: string): number;
  /** A distance over its floor; NaN where the floor is not positive (KID's unbiased floor can be <= 0). */
  ratio(t: Trial, name: string): number;
}

export function compareAt(trials: Trial[], choice: string): ComparedEpoch {
  const evalEpochs = (t: Trial) => t.rows.filter((r) => r.metrics).map((r) => r.epoch);
  const lossEpochs = (t: Trial) => t.rows.filter((r) => r.losses).map((r) => r.epoch);
  const anyEval = trials.some((t) => evalEpochs(t).length > 0);
  const epochOf = chooseEpochs(trials, choice, anyEval ? evalEpochs : lossEpochs, anyEval);
  const row = (t: Trial) => t.rows.find((r) => r.epoch === epochOf.get(t))!;
  const floor = (t: Trial, name: string) => row(t).metrics?.[`${BASELINE_PREFIX}${name}`] ?? NaN;
  const value = (t: Trial, name: string) => valueIn(row(t), name);
  return {
    epochOf,
    anyEval,
    row,
    value,
    floor,
    ratio: (t, name) => {
      const f = floor(t, name);
      return f > 0 ? value(t, name) / f : NaN;
    },
  };
}

function chooseEpochs(trials: Trial[], choice: string, epochsOf: (t: Trial) => number[], anyEval: boolean): Map<Trial, number> {
  if (choice === 'last') return new Map(trials.map((t) => [t, Math.max(...epochsOf(t))]));
  if (choice === 'common') {
    const common = epochsOf(trials[0]!).filter((e) => trials.every((t) => epochsOf(t).includes(e)));
    if (common.length === 0) throw new UserError(`no epoch has an ${anyEval ? 'evaluation' : 'epoch line'} in every trial: use --epoch last or --epoch N`);
    return new Map(trials.map((t) => [t, Math.max(...common)]));
  }
  const epoch = Number(choice);
  if (!Number.isInteger(epoch)) throw new UserError(`--epoch ${choice}: common, last or an epoch number`);
  const without = trials.filter((t) => !t.rows.some((r) => r.epoch === epoch));
  if (without.length) throw new UserError(`--epoch ${epoch}: not reached by ${without.map((t) => t.trial).join(', ')}`);
  return new Map(trials.map((t) => [t, epoch]));
}
