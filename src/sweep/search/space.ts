// A sweep's parameters as a search space: each value in an internal number (the value itself, or a list
// value's index), the representation TPE models, and back.
import type { Sweep } from '../../config/experiment.generated.ts';
import type { Rng } from '../../random/rng.ts';

export type Param =
  | { path: string; kind: 'float'; low: number; high: number; log: boolean }
  /** Integers low..high (step 1). */
  | { path: string; kind: 'int'; low: number; high: number }
  /** Any values (whole objects included): modelled by their index. */
  | { path: string; kind: 'categorical'; choices: unknown[] };

export function searchSpace(sweep: Sweep): Param[] {
  return Object.entries(sweep.parameters).map(([path, spec]): Param => {
    if (Array.isArray(spec)) return { path, kind: 'categorical', choices: spec };
    if (spec.distribution === 'intUniform') return { path, kind: 'int', low: Math.ceil(spec.min), high: Math.floor(spec.max) };
    return { path, kind: 'float', low: spec.min, high: spec.max, log: spec.distribution === 'logUniform' };
  });
}

/** A value's internal number; a categorical value is found by deep equality (values come back from JSON). */
export function toInternal(param: Param, value: unknown): number {
  if (param.kind !== 'categorical') return value as number;
  const json = JSON.stringify(value);
  const index = param.choices.findIndex((choice) => JSON.stringify(choice) === json);
  if (index < 0) throw new Error(`${param.path}: ${json} is not one of the sweep's values`);
  return index;
}

export function toExternal(param: Param, internal: number): unknown {
  return param.kind === 'categorical' ? param.choices[internal] : internal;
}

/** A uniform draw in internal form (what TPE suggests before it has enough trials). */
export function drawUniform(param: Param, rng: Rng): number {
  switch (param.kind) {
    case 'categorical':
      return rng.int(param.choices.length);
    case 'int':
      return param.low + rng.int(param.high - param.low + 1);
    case 'float':
      return param.log
        ? Math.exp(Math.log(param.low) + (Math.log(param.high) - Math.log(param.low)) * rng.next())
        : param.low + (param.high - param.low) * rng.next();
  }
}
