// TPE against random search on a cheap synthetic objective: the Branin function (minimum 0.397887) with
// Gaussian noise (sd 0.1), over x1 in [-5, 10], x2 in [0, 15]. For each seed, both searches run sequentially
// (one trial at a time) until a trial's noiseless value is within `target` of the minimum, or the budget ends.
// Prints the mean and median trials to reach the target, and how often each got there.
//   node --import tsx scripts/bench-search.ts [--seeds 30] [--budget 200] [--target 1.0]
import { parseArgs } from 'node:util';
import { deriveSeed, Rng } from '../src/random/rng.ts';
import { drawUniform, type Param } from '../src/sweep/search/space.ts';
import { suggest, type TrialObservation } from '../src/sweep/search/tpe.ts';

const { values } = parseArgs({
  options: { seeds: { type: 'string', default: '30' }, budget: { type: 'string', default: '200' }, target: { type: 'string', default: '1.0' } },
});
const [seeds, budget, target] = [Number(values.seeds), Number(values.budget), Number(values.target)];

const BRANIN_MIN = 0.397887;
const branin = ([x1, x2]: number[]) =>
  (x2 - (5.1 / (4 * Math.PI ** 2)) * x1 ** 2 + (5 / Math.PI) * x1 - 6) ** 2 + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x1) + 10;
const SPACE: Param[] = [
  { path: 'x1', kind: 'float', low: -5, high: 10, log: false },
  { path: 'x2', kind: 'float', low: 0, high: 15, log: false },
];

/** Trials until the target is reached (budget + 1 when it is not). */
function trialsToTarget(strategy: 'tpe' | 'random', seed: number): number {
  const noise = new Rng(deriveSeed(seed, 'noise'));
  const trials: TrialObservation[] = [];
  for (let number = 0; number < budget; number++) {
    const rng = new Rng(deriveSeed(seed, `${strategy}/${number}`));
    const x = strategy === 'tpe' ? suggest(SPACE, trials, 'min', rng) : SPACE.map((param) => drawUniform(param, rng));
    if (branin(x) - BRANIN_MIN <= target) return number + 1;
    trials.push({ number, values: x, state: 'complete', value: branin(x) + 0.1 * noise.normal() });
  }
  return budget + 1;
}

const summary = (counts: number[]) => {
  const sorted = [...counts].sort((a, b) => a - b);
  const reached = counts.filter((c) => c <= budget).length;
  return { mean: counts.reduce((a, b) => a + b, 0) / counts.length, median: sorted[Math.floor(sorted.length / 2)], reached };
};
const started = Date.now();
const results = (['random', 'tpe'] as const).map((strategy) => ({
  strategy,
  ...summary(Array.from({ length: seeds }, (_, seed) => trialsToTarget(strategy, seed))),
}));
console.log(`noisy Branin, target f - f* <= ${target}, ${seeds} seeds, budget ${budget} trials (not reached counts as ${budget + 1}):`);
for (const r of results) console.log(`  ${r.strategy.padEnd(6)} mean ${r.mean.toFixed(1)} trials, median ${r.median}, reached in ${r.reached}/${seeds}`);
console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
