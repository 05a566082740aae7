import type { Experiment, Sweep } from './experiment.generated.ts';
import { assign } from './merge.ts';
import type { Origins } from './origins.ts';
import { folderOf, resolveFileRelativePaths } from './file-relative.ts';
import { toPointer } from './pointer.ts';
import { checkAgainstSchema } from './schema.ts';
import { deriveSeed, Rng } from '../random/rng.ts';

/** One trial of a sweep: the values it sets, by dotted path, and the resulting config (without `sweep`). */
export interface Trial {
  index: number;
  name: string;
  values: Record<string, unknown>;
  config: Experiment;
}

type Distribution = Exclude<Sweep['parameters'][string], unknown[]>;

function draw(distribution: Distribution, rng: Rng): number {
  const { min, max } = distribution;
  switch (distribution.distribution) {
    case 'uniform':
      return min + (max - min) * rng.next();
    case 'logUniform':
      return Math.exp(Math.log(min) + (Math.log(max) - Math.log(min)) * rng.next());
    case 'intUniform':
      return Math.ceil(min) + rng.int(Math.floor(max) - Math.ceil(min) + 1);
  }
}

/** How many trials a sweep makes, without making them: a grid's is the product of its list lengths. */
export function countTrials(sweep: Sweep): number {
  if (sweep.strategy !== 'grid') return sweep.trials ?? 1;
  return Object.values(sweep.parameters).reduce((count, spec) => count * (Array.isArray(spec) ? spec.length : 1), 1);
}

/**
 * The value assignments of a sweep, made one at a time as they are asked for: the grid's product in order
 * (the last parameter varying fastest), or `trials` seeded draws (for tpe, whose values come from the search
 * as it goes, the draws that validation checks its space with). List values are the sweep's own, not copies.
 */
export function* sweepAssignments(sweep: Sweep, seed: number): Generator<Record<string, unknown>> {
  const entries = Object.entries(sweep.parameters);
  const count = countTrials(sweep);
  if (sweep.strategy !== 'grid') {
    const rng = new Rng(deriveSeed(seed, 'sweep/random'));
    for (let index = 0; index < count; index++) {
      yield Object.fromEntries(entries.map(([path, spec]) => [path, Array.isArray(spec) ? spec[rng.int(spec.length)] : draw(spec, rng)]));
    }
    return;
  }
  const lists = entries.map(([, spec]) => spec as unknown[]);
  for (let index = 0; index < count; index++) {
    // The trial's index written in mixed radix, one digit per list, the last list's varying fastest.
    const picks = new Array<unknown>(lists.length);
    let rest = index;
    for (let i = lists.length - 1; i >= 0; i--) {
      picks[i] = lists[i][rest % lists[i].length];
      rest = Math.floor(rest / lists[i].length);
    }
    yield Object.fromEntries(entries.map(([path], i) => [path, picks[i]]));
  }
}

/** The paths a swept path sets: itself and the paths linked to it, which take its value. */
function targetsOf(sweep: Sweep): (path: string) => string[] {
  const links = new Map((sweep.link ?? []).map(([leader, ...followers]) => [leader, followers]));
  return (path) => [path, ...(links.get(path) ?? [])];
}

/** A trial's config as composed, not yet validated: `config` without its sweep, with `values` assigned as overrides are. */
export function trialConfig(config: Experiment, sweep: Sweep, values: Record<string, unknown>): Record<string, unknown> {
  const trial = structuredClone(config) as unknown as Record<string, unknown>;
  delete trial.sweep;
  const targets = targetsOf(sweep);
  for (const [path, value] of Object.entries(values)) {
    for (const target of targets(path)) assign(trial, target.split('.'), structuredClone(value));
  }
  return trial;
}

/** Short, readable trial names: the swept values, e.g. "lr=0.005,batchSize=64". */
export function trialName(values: Record<string, unknown>, index: number): string {
  const parts = Object.entries(values).map(([path, value]) => {
    const key = path.split('.').pop() ?? path;
    const shown =
      value !== null && typeof value === 'object'
        ? Object.values(value as object)
            .map(String)
            .join('-')
        : typeof value === 'number' && !Number.isInteger(value)
          ? Number(value.toPrecision(3)).toString()
          : String(value);
    return `${key}=${shown}`;
  });
  return `${String(index).padStart(3, '0')}-${parts.join(',')}`.replace(/[^A-Za-z0-9.,=_-]/g, '_').slice(0, 120);
}

/**
 * A trial of `values`: linked paths take their leader's value, and the defaults a swept value leaves out
 * (a new kind's settings) are filled; with `origins`, swept file paths are made absolute (see sweepTrials).
 */
export function makeTrial(config: Experiment, index: number, values: Record<string, unknown>, origins?: Origins): Trial {
  const sweep = config.sweep!;
  const trial = trialConfig(config, sweep, values);
  // Fills the defaults a swept value leaves out; the trial itself was validated with the experiment.
  checkAgainstSchema(trial);
  if (origins) resolveSweptPaths(trial, Object.keys(values), targetsOf(sweep), origins);
  return { index, name: trialName(values, index), values, config: trial as unknown as Experiment };
}

/**
 * The trials of a validated experiment, made one at a time (none for tpe: its trials are suggested as the
 * sweep runs, src/sweep/search/); linked paths take their leader's value, and
 * the defaults a swept value leaves out (a new kind's settings) are filled. With `origins` (from loading
 * the file), file paths among the swept values (data.source.root, ...) are made absolute relative to the
 * file that wrote the value, as the loader does for the rest of the config.
 */
export function* sweepTrials(config: Experiment, origins?: Origins): Generator<Trial> {
  const { sweep } = config;
  if (!sweep || sweep.strategy === 'tpe') return;
  let index = 0;
  for (const values of sweepAssignments(sweep, config.seed)) yield makeTrial(config, index++, values, origins);
}

/** Every trial of a validated experiment (validation bounds their number by sweep.maxTrials). */
export function expandSweep(config: Experiment, origins?: Origins): Trial[] {
  return [...sweepTrials(config, origins)];
}

/** Makes relative file paths that a sweep value put into `trial` absolute, against the file of that value. */
function resolveSweptPaths(trial: Record<string, unknown>, swept: string[], targets: (path: string) => string[], origins: Origins): void {
  const written = new Map(swept.flatMap((path) => targets(path).map((target) => [toPointer(target.split('.')), path] as const)));
  resolveFileRelativePaths(trial, (pointer) => {
    const target = [...written.keys()].find((at) => pointer === at || pointer.startsWith(`${at}/`));
    return target === undefined ? undefined : folderOf(origins.ofValue(toPointer(['sweep', 'parameters', written.get(target)!])));
  });
}
