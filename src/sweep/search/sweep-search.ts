// A sweep's adaptive parts on its directory: tpe's trials, suggested one at a time from the trials so far
// (running ones as constant liars), and early stopping's decisions on the trials' evaluations, with the rung
// state in rungs.json so that a resumed sweep keeps them. The pieces both a local sweep and a queued one use
// (src/sweep/queue/) are the exported functions: the objective of an evaluation, the pruning decision on rung
// data, and the next suggestion from a list of trial records.
import { existsSync, readFileSync } from 'node:fs';
import type { Experiment, Sweep } from '../../config/experiment.generated.ts';
import type { Origins } from '../../config/origins.ts';
import { writeFileAtomic } from '../../io/atomic.ts';
import { deriveSeed, Rng } from '../../random/rng.ts';
import { makeTrial, type Trial } from '../../config/sweep-expand.ts';
import type { SweepDirectory, TrialRecord } from '../../track/sweep-manifest.ts';
import { ashaDecide, nextPromotion, type AshaDecision, type AshaSettings, type Rungs } from './asha.ts';
import { searchSpace, toExternal, toInternal } from './space.ts';
import { suggest, TPE_DEFAULTS, type TrialObservation } from './tpe.ts';

const RUNGS = 'rungs.json';

/**
 * How TPE sees a trial record; undefined for those it leaves out (failed, stopped, not started, no objective).
 * `pendingRuns`: a pending trial counts as running (a queued sweep's trials wait in the queue once suggested).
 */
function observation(record: TrialRecord, values: number[], pendingRuns: boolean): TrialObservation | undefined {
  const number = record.index;
  if (record.status === 'running' || (pendingRuns && record.status === 'pending')) return { number, values, state: 'running' };
  if (record.status === 'pruned') return { number, values, state: 'pruned', step: record.objective?.epoch, value: record.objective?.value };
  if (record.status === 'finished' && typeof record.objective?.value === 'number') return { number, values, state: 'complete', value: record.objective.value };
  return undefined;
}

/** sweep.objective's value in an evaluation's values (NaN for the null that JSON makes of it); undefined when absent. */
export function objectiveValue(sweep: Pick<Sweep, 'objective'>, values: Record<string, number | null>): number | undefined {
  const reported = sweep.objective ? values[sweep.objective.metric] : undefined;
  return reported === undefined ? undefined : (reported ?? NaN);
}

export const ashaSettings = (earlyStop: NonNullable<Sweep['earlyStop']>): AshaSettings => ({
  minEpochs: earlyStop.minEpochs,
  reductionFactor: earlyStop.reductionFactor,
  minEarlyStoppingRate: earlyStop.minEarlyStoppingRate,
});

/**
 * The early-stopping decision on `trial` reporting `value` at `epoch`, recorded in `rungs` (asha.ts); never a
 * prune at the trial's last epoch (`epochs`), where nothing is left to save.
 */
export function pruneDecision(
  rungs: Rungs,
  trial: string,
  epoch: number,
  value: number,
  sweep: Pick<Sweep, 'objective' | 'earlyStop'>,
  epochs: number,
): AshaDecision {
  const { prune, rung } = ashaDecide(rungs, trial, epoch, value, ashaSettings(sweep.earlyStop!), sweep.objective!.mode);
  return { prune: prune && rung !== null && epoch < epochs, rung };
}

/**
 * tpe's trial number `index` from the trials so far: seeded by the config's seed and the index, so the same history
 * gives the same suggestion. `pendingRuns`: pending trials count as running (constant liars), as in a queue.
 */
export function suggestTrial(config: Experiment, origins: Origins | undefined, records: TrialRecord[], index: number, pendingRuns = false): Trial {
  const sweep = config.sweep!;
  const space = searchSpace(sweep);
  const history = records.flatMap(
    (record) =>
      observation(
        record,
        space.map((param) => toInternal(param, record.values[param.path])),
        pendingRuns,
      ) ?? [],
  );
  const rng = new Rng(deriveSeed(config.seed, `sweep/tpe/${index}`));
  const internal = suggest(space, history, sweep.objective!.mode, rng, { ...TPE_DEFAULTS, ...sweep.tpe });
  const values = Object.fromEntries(space.map((param, j) => [param.path, toExternal(param, internal[j])]));
  return makeTrial(config, index, values, origins);
}

export class SweepSearch {
  private rungs: Rungs = {};
  private directory: SweepDirectory | undefined;

  private constructor(
    private readonly config: Experiment,
    private readonly origins: Origins | undefined,
  ) {}

  /** The search of a sweep with tpe or earlyStop; undefined for a plain grid or random sweep. */
  static of(config: Experiment, origins?: Origins): SweepSearch | undefined {
    const sweep = config.sweep!;
    return sweep.strategy === 'tpe' || sweep.earlyStop ? new SweepSearch(config, origins) : undefined;
  }

  /** Works on `directory` from now on, with the rung values it holds. */
  attach(directory: SweepDirectory): void {
    this.directory = directory;
    const file = directory.file(RUNGS);
    this.rungs = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Rungs) : {};
  }

  /** tpe: the trials suggested so far (to run again those that did not end), and how many remain to suggest. */
  madeTrials(): { trials: Trial[]; toSuggest: number } {
    const sweep = this.config.sweep!;
    if (sweep.strategy !== 'tpe') return { trials: [], toSuggest: 0 };
    const records = this.directory!.manifest.trials;
    return {
      trials: records.map((record) => makeTrial(this.config, record.index, record.values, this.origins)),
      toSuggest: Math.max((sweep.trials ?? 1) - records.length, 0),
    };
  }

  /** tpe's next trial, added to the manifest: seeded by its index, so a sweep run one trial at a time repeats. */
  nextTrial(): Trial {
    const directory = this.directory!;
    const trial = suggestTrial(this.config, this.origins, directory.manifest.trials, directory.manifest.trials.length);
    directory.addTrial(trial);
    return trial;
  }

  /**
   * sweep.earlyStop.promote: the pruned trial the rungs now rank within its rung's top 1/reductionFactor (the best
   * such one; asha.ts's nextPromotion), marked promoted in the manifest (status running, its `promoted` record,
   * the pruned record cleared) so that it is resumed from its checkpoint; undefined when none qualifies.
   */
  promote(): string | undefined {
    const sweep = this.config.sweep!;
    if (!sweep.earlyStop?.promote) return undefined;
    const directory = this.directory!;
    const stopped = directory.manifest.trials.flatMap((record) =>
      record.status === 'pruned' && record.pruned ? [{ trial: record.name, rung: record.pruned.rung }] : [],
    );
    const chosen = nextPromotion(this.rungs, stopped, sweep.earlyStop.reductionFactor, sweep.objective!.mode);
    if (!chosen) return undefined;
    const record = directory.trial(chosen.trial);
    directory.update(chosen.trial, {
      status: 'running',
      pruned: null,
      promoted: [...(record.promoted ?? []), { rung: chosen.rung, epoch: record.pruned!.epoch, value: chosen.value }],
    });
    return chosen.trial;
  }

  /**
   * Records `trial`'s objective at an evaluation and decides whether early stopping prunes it there (never at
   * its last epoch, where nothing is left to save). Evaluations without the objective's metric are ignored.
   */
  evaluated(trial: Trial, epoch: number, values: Record<string, number>): boolean {
    const sweep = this.config.sweep!;
    const value = objectiveValue(sweep, values);
    if (value === undefined) return false;
    const directory = this.directory!;
    directory.update(trial.name, { objective: { epoch, value } });
    if (!sweep.earlyStop) return false;
    const { prune, rung } = pruneDecision(this.rungs, trial.name, epoch, value, sweep, trial.config.train.epochs);
    writeFileAtomic(directory.file(RUNGS), `${JSON.stringify(this.rungs, null, 2)}\n`);
    if (!prune) return false;
    directory.update(trial.name, { pruned: { rung: rung!, epoch, value } });
    return true;
  }
}
