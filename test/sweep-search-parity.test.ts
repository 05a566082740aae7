// TPE against Optuna (test/parity/optuna_tpe.py): on fixed trials (complete, pruned and running; more than 25,
// so old trials weigh less), the same split into good and bad trials and the same log-densities l(x) and g(x)
// of candidates, per parameter (univariate) and jointly (multivariate), for float, log-float, integer and
// categorical (whole objects) parameters, minimising and maximising.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { OPTUNA_PYTHON, optunaSkip } from './parity/exchange.ts';
import { Rng } from '../src/random/rng.ts';
import { densities, splitTrials, TPE_DEFAULTS, type Mode, type TrialObservation } from '../src/sweep/search/tpe.ts';
import { drawUniform, type Param } from '../src/sweep/search/space.ts';

const SCRIPT = join(import.meta.dirname, 'parity/optuna_tpe.py');
const optunaMissing = optunaSkip();

const PARAMS: Param[] = [
  { path: 'x', kind: 'float', low: -5, high: 10, log: false },
  { path: 'lr', kind: 'float', low: 1e-5, high: 1e-1, log: true },
  { path: 'batch', kind: 'int', low: 4, high: 64 },
  { path: 'activation', kind: 'categorical', choices: [{ kind: 'relu' }, { kind: 'leakyRelu', alpha: 0.2 }, { kind: 'tanh' }, 'none'] },
];

/**
 * `count` trials with seeded values: mostly complete, some pruned at various steps, the last few running. The
 * integers are distinct: which of two tied observations gets which bandwidth follows the sort, numpy's is not
 * stable (ours keeps trial order), and past 25 trials the tied kernels weigh differently.
 */
function history(count: number, seed: number): TrialObservation[] {
  const rng = new Rng(seed);
  const integers = Array.from({ length: 61 }, (_, i) => 4 + i);
  for (let i = integers.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [integers[i], integers[j]] = [integers[j], integers[i]];
  }
  return Array.from({ length: count }, (_, number): TrialObservation => {
    const values = PARAMS.map((param) => drawUniform(param, rng));
    values[2] = integers[number];
    const value = (values[0] - 2) ** 2 + Math.log10(values[1]) ** 2 + rng.normal();
    if (number >= count - 3) return { number, values, state: 'running' };
    if (number % 7 === 3) return { number, values, state: 'pruned', step: 1 + (number % 3), value };
    return { number, values, state: 'complete', value };
  });
}

function candidates(count: number, seed: number): number[][] {
  const rng = new Rng(seed);
  const edges = [PARAMS.map((p) => (p.kind === 'categorical' ? 0 : p.low)), PARAMS.map((p) => (p.kind === 'categorical' ? p.choices.length - 1 : p.high))];
  return [...edges, ...Array.from({ length: count }, () => PARAMS.map((param) => drawUniform(param, rng)))];
}

interface OptunaDensities {
  below: number[];
  above: number[];
  logBelow: number[] | number[][];
  logAbove: number[] | number[][];
}

function optuna(trials: TrialObservation[], points: number[][], mode: Mode, multivariate: boolean): OptunaDensities {
  const run = spawnSync(OPTUNA_PYTHON, [SCRIPT], {
    input: JSON.stringify({ params: PARAMS, trials, candidates: points, mode, multivariate }),
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as OptunaDensities;
}

/** The largest relative difference between ours and Optuna's log-densities. */
function worstRelative(ours: number[], theirs: number[]): number {
  assert.equal(ours.length, theirs.length);
  const worst = Math.max(...ours.map((value, i) => Math.abs(value - theirs[i]) / Math.max(Math.abs(theirs[i]), 1e-300)));
  return worst;
}

for (const [count, mode, multivariate] of [
  [40, 'min', false],
  [40, 'max', true],
  [14, 'max', false],
  [60, 'min', true],
] as const) {
  test(`TPE densities match Optuna's: ${count} trials, ${mode}, ${multivariate ? 'multivariate' : 'univariate'}`, { skip: optunaMissing }, (t) => {
    const trials = history(count, count * 31 + (multivariate ? 1 : 0));
    const points = candidates(30, count);
    const split = splitTrials(trials, mode);
    const expected = optuna(trials, points, mode, multivariate);
    assert.deepEqual(
      split.below.map((trial) => trial.number),
      expected.below,
      'good trials',
    );
    assert.deepEqual(
      split.above.map((trial) => trial.number),
      expected.above,
      'bad trials',
    );
    const columns = multivariate ? [PARAMS.map((_, j) => j)] : PARAMS.map((_, j) => [j]);
    let worst = 0;
    columns.forEach((indices, c) => {
      const { below, above } = densities(
        split,
        indices.map((j) => PARAMS[j]),
        indices,
        TPE_DEFAULTS,
      );
      const at = points.map((point) => indices.map((j) => point[j]));
      const theirs = (all: number[] | number[][]) => (multivariate ? (all as number[]) : (all as number[][])[c]);
      worst = Math.max(worst, worstRelative(below.logPdf(at), theirs(expected.logBelow)), worstRelative(above.logPdf(at), theirs(expected.logAbove)));
    });
    t.diagnostic(`largest relative difference of log l(x), log g(x): ${worst.toExponential(2)}`);
    assert.ok(worst < 1e-9, `relative difference ${worst}`);
  });
}
