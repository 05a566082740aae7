// Asynchronous successive halving (Li et al. 2018) with the decisions of Optuna's SuccessiveHalvingPruner: a
// trial that reaches rung r's epoch, minEpochs * reductionFactor^(r + minEarlyStoppingRate), records its value
// there and goes on only if that value is in the top 1/reductionFactor of all values recorded at rung r so far
// (the first trials of a rung, fewer than reductionFactor, go on only if best). With promotion (sweep.earlyStop.
// promote, Li et al.'s rule), a trial stopped at a rung goes on later once the values recorded there since put it
// within the same top share: promotableAt and nextPromotion, the same cut as a decision.
import type { Mode } from './tpe.ts';

export interface AshaSettings {
  minEpochs: number;
  reductionFactor: number;
  minEarlyStoppingRate: number;
}

/** Each trial's values at the rungs it completed, rung 0 first: the state a resumed sweep needs. */
export type Rungs = Record<string, number[]>;

export interface AshaDecision {
  prune: boolean;
  /** The rung the decision was made at; null when the epoch reached no new rung. */
  rung: number | null;
}

export const rungEpoch = (rung: number, settings: AshaSettings): number =>
  settings.minEpochs * settings.reductionFactor ** (rung + settings.minEarlyStoppingRate);

/** Whether `value` is within the top 1/reductionFactor of `competing` (which holds it). */
function promotable(value: number, competing: number[], reductionFactor: number, mode: Mode): boolean {
  const index = Math.max(Math.floor(competing.length / reductionFactor) - 1, 0);
  const sorted = [...competing].sort((a, b) => a - b);
  return mode === 'max' ? value >= sorted[sorted.length - 1 - index] : value <= sorted[index];
}

/**
 * The decision for `trial` reporting `value` at `epoch`; records the rungs it completes in `rungs`. One report
 * can complete several rungs (an evaluation every few epochs); a NaN value is pruned at its first rung.
 */
export function ashaDecide(rungs: Rungs, trial: string, epoch: number, value: number, settings: AshaSettings, mode: Mode): AshaDecision {
  const completed = (rungs[trial] ??= []);
  let decision: AshaDecision = { prune: false, rung: null };
  for (let rung = completed.length; epoch >= rungEpoch(rung, settings); rung++) {
    if (Number.isNaN(value)) return { prune: true, rung };
    const competing = [...Object.entries(rungs).flatMap(([name, values]) => (name !== trial && rung < values.length ? [values[rung]] : [])), value];
    completed.push(value);
    if (!promotable(value, competing, settings.reductionFactor, mode)) return { prune: true, rung };
    decision = { prune: false, rung };
  }
  return decision;
}

/**
 * Whether `trial`, stopped at `rung`, is now within the top 1/reductionFactor of every value recorded at that rung
 * (its own included): the cut of a decision, on the rung as it is now. False for a trial with no value there (NaN).
 */
export function promotableAt(rungs: Rungs, trial: string, rung: number, reductionFactor: number, mode: Mode): boolean {
  const value = rungs[trial]?.[rung];
  if (value === undefined || Number.isNaN(value)) return false;
  const competing = Object.values(rungs).flatMap((values) => (rung < values.length ? [values[rung]] : []));
  return promotable(value, competing, reductionFactor, mode);
}

/**
 * Of the trials stopped at a rung (`stopped`: name and rung), the one to promote first, or undefined when none is
 * promotable: the highest rung, then the best value there, then the first listed.
 */
export function nextPromotion(
  rungs: Rungs,
  stopped: { trial: string; rung: number }[],
  reductionFactor: number,
  mode: Mode,
): { trial: string; rung: number; value: number } | undefined {
  const sign = mode === 'max' ? -1 : 1;
  return stopped
    .filter(({ trial, rung }) => promotableAt(rungs, trial, rung, reductionFactor, mode))
    .map(({ trial, rung }) => ({ trial, rung, value: rungs[trial][rung] }))
    .reduce<{ trial: string; rung: number; value: number } | undefined>(
      (best, candidate) =>
        !best || candidate.rung > best.rung || (candidate.rung === best.rung && sign * (candidate.value - best.value) < 0) ? candidate : best,
      undefined,
    );
}
