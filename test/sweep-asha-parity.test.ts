// ASHA against Optuna's SuccessiveHalvingPruner (test/parity/optuna_asha.py): on fixed histories of trials that
// run at once and report in an interleaved order, the same decision at every report and the same rung values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { OPTUNA_PYTHON, optunaSkip } from './parity/exchange.ts';
import { Rng } from '../src/random/rng.ts';
import { ashaDecide, type AshaSettings, type Rungs } from '../src/sweep/search/asha.ts';
import type { Mode } from '../src/sweep/search/tpe.ts';

const SCRIPT = join(import.meta.dirname, 'parity/optuna_asha.py');
const optunaMissing = optunaSkip();

type Report = [trial: number, step: number, value: number];

/**
 * `trials` trials of `epochs` epochs, evaluated every `every` epochs; their reports interleaved as parallel
 * workers would send them (each trial's in order); values drift by trial, with noise, some tied, one NaN.
 */
function reports(trials: number, epochs: number, every: number, seed: number): Report[] {
  const rng = new Rng(seed);
  const queues = Array.from({ length: trials }, (_, trial) => {
    const quality = rng.next() * 3;
    return Array.from({ length: Math.floor(epochs / every) }, (_, i): Report => {
      const step = (i + 1) * every;
      const value = trial === 5 && step === every * 2 ? NaN : trial % 4 === 1 ? 1.5 : Math.round((quality + 4 / step + rng.normal() * 0.2) * 1000) / 1000;
      return [trial, step, value];
    });
  });
  const total = queues.reduce((sum, queue) => sum + queue.length, 0);
  const out: Report[] = [];
  // Trials start in order, a few at a time; at each turn a random running trial reports.
  let started = 0;
  const running: number[] = [];
  while (out.length < total) {
    while (running.length < 4 && started < trials) running.push(started++);
    const pick = rng.int(running.length);
    const trial = running[pick];
    out.push(queues[trial].shift()!);
    if (queues[trial].length === 0) running.splice(pick, 1);
  }
  return out;
}

function ours(history: Report[], settings: AshaSettings, mode: Mode): { decisions: [number, number, boolean][]; rungs: Rungs } {
  const rungs: Rungs = {};
  const pruned = new Set<number>();
  const decisions: [number, number, boolean][] = [];
  for (const [trial, step, value] of history) {
    if (pruned.has(trial)) continue;
    const { prune } = ashaDecide(rungs, String(trial), step, value, settings, mode);
    decisions.push([trial, step, prune]);
    if (prune) pruned.add(trial);
  }
  return { decisions, rungs };
}

for (const [settings, mode, every] of [
  [{ minEpochs: 1, reductionFactor: 3, minEarlyStoppingRate: 0 }, 'min', 1],
  [{ minEpochs: 1, reductionFactor: 2, minEarlyStoppingRate: 0 }, 'max', 1],
  [{ minEpochs: 2, reductionFactor: 3, minEarlyStoppingRate: 1 }, 'min', 1],
  [{ minEpochs: 1, reductionFactor: 4, minEarlyStoppingRate: 0 }, 'min', 3],
] as const) {
  test(`ASHA prunes as Optuna's SuccessiveHalvingPruner: ${JSON.stringify(settings)}, ${mode}, evaluated every ${every}`, { skip: optunaMissing }, (t) => {
    const history = reports(24, 27, every, settings.reductionFactor * 100 + every);
    const run = spawnSync(OPTUNA_PYTHON, [SCRIPT], { input: JSON.stringify({ settings, mode, trials: 24, reports: history }), encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const expected = JSON.parse(run.stdout) as ReturnType<typeof ours>;
    const actual = ours(history, settings, mode);
    assert.deepEqual(actual.decisions, expected.decisions);
    for (let trial = 0; trial < 24; trial++) assert.deepEqual(actual.rungs[String(trial)] ?? [], expected.rungs[String(trial)], `rungs of trial ${trial}`);
    const prunedAt = actual.decisions.filter(([, , prune]) => prune).length;
    t.diagnostic(`${actual.decisions.length} reports, ${prunedAt} trials pruned, the same decisions as Optuna at every report`);
    assert.ok(prunedAt > 0 && prunedAt < 24);
  });
}
