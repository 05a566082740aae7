// The Tree-structured Parzen Estimator's suggestion (Bergstra et al. 2011) with Optuna's TPESampler defaults:
// random draws for the first trials, then the best of 24 candidates drawn from l(x), the density of the best
// gamma(n) trials, by l(x)/g(x), g being the density of the rest. Running trials count among the rest
// (constant liar), so trials started at once are pushed apart instead of landing on the same point.
import type { Rng } from '../../random/rng.ts';
import { ParzenEstimator, type ParzenSettings } from './parzen.ts';
import { drawUniform, type Param } from './space.ts';

export type Mode = 'min' | 'max';

/** A trial as TPE sees it: its internal values and how it ended (or that it runs). */
export type TrialObservation = { number: number; values: number[] } & (
  | { state: 'complete'; value: number }
  /** Pruned at `step` with `value` there (undefined when it reported nothing). */
  | { state: 'pruned'; step?: number; value?: number }
  | { state: 'running' }
);

export interface TpeSettings extends ParzenSettings {
  /** Random draws until this many trials are complete or pruned (Optuna: 10). */
  startupTrials: number;
  /** Candidates drawn from l(x) per suggestion (Optuna: 24). */
  candidates: number;
  /** One mixture over all parameters (joint kernels) instead of one per parameter. */
  multivariate: boolean;
}

export const TPE_DEFAULTS: TpeSettings = { startupTrials: 10, candidates: 24, multivariate: false, priorWeight: 1, magicClip: true, endpoints: false };

/** How many of n finished trials form the good group: Optuna's min(ceil(0.1 n), 25). */
export const gamma = (n: number): number => Math.min(Math.ceil(0.1 * n), 25);

/**
 * The good and bad groups, each in trial order: the best complete trials, then (if gamma(n) asks for more) the
 * pruned ones that got furthest and, among those, best; running trials are always bad.
 */
export function splitTrials(trials: TrialObservation[], mode: Mode): { below: TrialObservation[]; above: TrialObservation[] } {
  const sign = mode === 'min' ? 1 : -1;
  const finished = trials.filter((t) => t.state !== 'running').length;
  let wanted = gamma(finished);
  const complete = trials
    .filter((t): t is Extract<TrialObservation, { state: 'complete' }> => t.state === 'complete')
    .sort((a, b) => sign * (a.value - b.value));
  const prunedScore = (t: Extract<TrialObservation, { state: 'pruned' }>): [number, number] =>
    t.step === undefined ? [1, 0] : [-t.step, t.value === undefined || Number.isNaN(t.value) ? Infinity : sign * t.value];
  const pruned = trials
    .filter((t): t is Extract<TrialObservation, { state: 'pruned' }> => t.state === 'pruned')
    .map((t) => ({ t, score: prunedScore(t) }))
    .sort((a, b) => a.score[0] - b.score[0] || a.score[1] - b.score[1])
    .map(({ t }) => t);
  const below: TrialObservation[] = complete.slice(0, Math.min(wanted, complete.length));
  wanted = Math.max(0, wanted - below.length);
  below.push(...pruned.slice(0, Math.min(wanted, pruned.length)));
  const chosen = new Set(below);
  const byNumber = (a: TrialObservation, b: TrialObservation) => a.number - b.number;
  return { below: below.sort(byNumber), above: trials.filter((t) => !chosen.has(t)).sort(byNumber) };
}

/** The good and bad densities of a split, over `params` (indices into each trial's values). */
export function densities(
  split: ReturnType<typeof splitTrials>,
  params: Param[],
  columns: number[],
  settings: ParzenSettings,
): { below: ParzenEstimator; above: ParzenEstimator } {
  const rows = (trials: TrialObservation[]) => trials.map((t) => columns.map((j) => t.values[j]));
  return { below: new ParzenEstimator(rows(split.below), params, settings), above: new ParzenEstimator(rows(split.above), params, settings) };
}

/** The candidate with the largest log l(x) - log g(x). */
function bestCandidate(estimators: { below: ParzenEstimator; above: ParzenEstimator }, rng: Rng, count: number): number[] {
  const candidates = estimators.below.sample(rng, count);
  const good = estimators.below.logPdf(candidates);
  const bad = estimators.above.logPdf(candidates);
  let best = 0;
  for (let i = 1; i < candidates.length; i++) if (good[i] - bad[i] > good[best] - bad[best]) best = i;
  return candidates[best];
}

/** The next trial's internal values, given the trials so far (the one being suggested not among them). */
export function suggest(params: Param[], trials: TrialObservation[], mode: Mode, rng: Rng, settings: TpeSettings = TPE_DEFAULTS): number[] {
  const finished = trials.filter((t) => t.state !== 'running');
  if (finished.length < settings.startupTrials) return params.map((param) => drawUniform(param, rng));
  const split = splitTrials(trials, mode);
  if (settings.multivariate)
    return bestCandidate(
      densities(
        split,
        params,
        params.map((_, j) => j),
        settings,
      ),
      rng,
      settings.candidates,
    );
  return params.map((param, j) => bestCandidate(densities(split, [param], [j], settings), rng, settings.candidates)[0]);
}
