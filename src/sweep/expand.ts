import { dirname, isAbsolute, resolve } from 'node:path';
import type { Experiment, Sweep } from '../config/experiment.generated.ts';
import type { Origins } from '../config/origins.ts';
import { fromPointer, getAt, setAt, toPointer } from '../config/pointer.ts';
import { checkAgainstSchema } from '../config/schema.ts';
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

/** The value assignments of a sweep: the grid's product in order, or `trials` seeded draws. */
export function sweepAssignments(sweep: Sweep, seed: number): Record<string, unknown>[] {
  const entries = Object.entries(sweep.parameters);
  if (sweep.strategy === 'random') {
    const rng = new Rng(deriveSeed(seed, 'sweep/random'));
    return Array.from({ length: sweep.trials ?? 1 }, () =>
      Object.fromEntries(
        entries.map(([path, spec]) => [path, Array.isArray(spec) ? structuredClone(spec[rng.int(spec.length)]) : draw(spec, rng)]),
      ),
    );
  }
  return entries.reduce<Record<string, unknown>[]>(
    (combos, [path, spec]) => combos.flatMap((combo) => (spec as unknown[]).map((value) => ({ ...combo, [path]: value }))),
    [{}],
  );
}

/** Short, readable trial names: the swept values, e.g. "lr=0.005,batchSize=64". */
function trialName(values: Record<string, unknown>, index: number): string {
  const parts = Object.entries(values).map(([path, value]) => {
    const key = path.split('.').pop() ?? path;
    const shown =
      value !== null && typeof value === 'object'
        ? Object.values(value as object).map(String).join('-')
        : typeof value === 'number' && !Number.isInteger(value)
          ? Number(value.toPrecision(3)).toString()
          : String(value);
    return `${key}=${shown}`;
  });
  return `${String(index).padStart(3, '0')}-${parts.join(',')}`.replace(/[^A-Za-z0-9.,=_-]/g, '_').slice(0, 120);
}

/**
 * Expands a validated experiment into its trials; linked paths take their leader's value. With `origins`
 * (from loading the file), file paths among the swept values (data.source.root, ...) are made absolute
 * relative to the file that wrote the value, as the loader does for the rest of the config.
 */
export function expandSweep(config: Experiment, origins?: Origins): Trial[] {
  const { sweep } = config;
  if (!sweep) return [];
  const links = new Map((sweep.link ?? []).map(([leader, ...followers]) => [leader, followers]));
  return sweepAssignments(sweep, config.seed).map((values, index) => {
    const trial = structuredClone(config) as unknown as Record<string, unknown>;
    delete trial.sweep;
    const written = new Map<string, string>();
    for (const [path, value] of Object.entries(values)) {
      for (const target of [path, ...(links.get(path) ?? [])]) {
        setAt(trial, target.split('.'), structuredClone(value));
        written.set(toPointer(target.split('.')), path);
      }
    }
    if (origins) resolveSweptPaths(trial, written, origins);
    return { index, name: trialName(values, index), values, config: trial as unknown as Experiment };
  });
}

/** Makes relative file paths that a sweep value put into `trial` absolute, against the file of that value. */
function resolveSweptPaths(trial: Record<string, unknown>, written: Map<string, string>, origins: Origins): void {
  const { fileRelativePaths } = checkAgainstSchema(trial);
  for (const pointer of fileRelativePaths) {
    const target = [...written.keys()].find((at) => pointer === at || pointer.startsWith(`${at}/`));
    if (target === undefined) continue;
    const path = fromPointer(pointer);
    const value = getAt(trial, path);
    if (typeof value !== 'string' || isAbsolute(value)) continue;
    const origin = origins.ofValue(toPointer(['sweep', 'parameters', written.get(target)!]));
    setAt(trial, path, resolve(origin.kind === 'file' ? dirname(origin.file) : process.cwd(), value));
  }
}
