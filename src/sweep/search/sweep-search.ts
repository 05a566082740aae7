// A sweep's adaptive parts on its directory: tpe's trials, suggested one at a time from the trials so far
// (running ones as constant liars), and early stopping's decisions on the trials' evaluations, with the rung
// state in rungs.json so that a resumed sweep keeps them.
import { existsSync, readFileSync } from 'node:fs';
import type { Experiment } from '../../config/experiment.generated.ts';
import type { Origins } from '../../config/origins.ts';
import { writeFileAtomic } from '../../io/atomic.ts';
import { deriveSeed, Rng } from '../../random/rng.ts';
import { makeTrial, type Trial } from '../../config/sweep-expand.ts';
import type { SweepDirectory, TrialRecord } from '../../track/sweep-manifest.ts';
import { ashaDecide, type AshaSettings, type Rungs } from './asha.ts';
import { searchSpace, toExternal, toInternal } from './space.ts';
import { suggest, TPE_DEFAULTS, type TrialObservation } from './tpe.ts';

const RUNGS = 'rungs.json';

/** How TPE sees a trial of the manifest; undefined for those it leaves out (failed, not started, no objective). */
function observation(record: TrialRecord, values: number[]): TrialObservation | undefined {
  const number = record.index;
  if (record.status === 'running') return { number, values, state: 'running' };
  if (record.status === 'pruned') return { number, values, state: 'pruned', step: record.objective?.epoch, value: record.objective?.value };
  if (record.status === 'finished' && typeof record.objective?.value === 'number') return { number, values, state: 'complete', value: record.objective.value };
  return undefined;
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
    const sweep = this.config.sweep!;
    const directory = this.directory!;
    const space = searchSpace(sweep);
    const history = directory.manifest.trials.flatMap(
      (record) =>
        observation(
          record,
          space.map((param) => toInternal(param, record.values[param.path])),
        ) ?? [],
    );
    const index = directory.manifest.trials.length;
    const rng = new Rng(deriveSeed(this.config.seed, `sweep/tpe/${index}`));
    const internal = suggest(space, history, sweep.objective!.mode, rng, { ...TPE_DEFAULTS, ...sweep.tpe });
    const values = Object.fromEntries(space.map((param, j) => [param.path, toExternal(param, internal[j])]));
    const trial = makeTrial(this.config, index, values, this.origins);
    directory.addTrial(trial);
    return trial;
  }

  /**
   * Records `trial`'s objective at an evaluation and decides whether early stopping prunes it there (never at
   * its last epoch, where nothing is left to save). Evaluations without the objective's metric are ignored.
   */
  evaluated(trial: Trial, epoch: number, values: Record<string, number>): boolean {
    const { objective, earlyStop } = this.config.sweep!;
    const reported: number | null | undefined = objective ? values[objective.metric] : undefined;
    if (reported === undefined) return false;
    // NaN crosses the IPC channel's JSON as null.
    const value = reported ?? NaN;
    const directory = this.directory!;
    directory.update(trial.name, { objective: { epoch, value } });
    if (!earlyStop) return false;
    const settings: AshaSettings = {
      minEpochs: earlyStop.minEpochs,
      reductionFactor: earlyStop.reductionFactor,
      minEarlyStoppingRate: earlyStop.minEarlyStoppingRate,
    };
    const { prune, rung } = ashaDecide(this.rungs, trial.name, epoch, value, settings, objective!.mode);
    writeFileAtomic(directory.file(RUNGS), `${JSON.stringify(this.rungs, null, 2)}\n`);
    if (!prune || rung === null || epoch >= trial.config.train.epochs) return false;
    directory.update(trial.name, { pruned: { rung, epoch, value } });
    return true;
  }
}
