// The weight average (train.ema) of each checkpoint of a run, evaluated with the run's train.eval metrics three
// ways: the live generator, the average with the batch-norm statistics its checkpoint holds, and the average with
// them recomputed from its own activations (train.ema.statistics, src/train/ema.ts) as at that step. For runs from
// before the statistics were recomputed, whose averages hold the live generator's. Markdown on stdout.
//
//   node --import tsx scripts/ema-statistics.ts <run-dir> [--metrics fd,kid,precision,recall]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { useBackend } from '../src/backend/select.ts';
import { loadDataset } from '../src/data/dataset.ts';
import { createEvaluator } from '../src/eval/evaluate.ts';
import { cacheFolder } from '../src/io/cache-folder.ts';
import { loadLayersModel } from '../src/model/io.ts';
import { deriveSeed } from '../src/random/rng.ts';
import { GeneratorAverage } from '../src/train/ema.ts';
import { readRunConfig } from '../src/track/run-dir.ts';

const { values: options, positionals } = parseArgs({ allowPositionals: true, options: { metrics: { type: 'string', default: 'fd,kid,precision,recall' } } });
const runDir = positionals[0];
if (!runDir) throw new Error('usage: ema-statistics.ts <run-dir> [--metrics fd,kid]');
const config = readRunConfig(runDir);
const { ema, eval: evaluation } = config.train;
if (!ema || !evaluation) throw new Error(`${runDir}: the run has no train.ema or no train.eval`);

const log = (line: string) => process.stderr.write(`${line}\n`);
await useBackend(config.train.backend);
const dataset = await loadDataset(config.data, { cacheDir: cacheFolder('data'), log });
const evaluator = await createEvaluator(config, evaluation, dataset, { cacheDir: cacheFolder('classifiers'), log });
const wanted = options.metrics.split(',');
const shown = (values: Record<string, number>) => Object.keys(values).filter((name) => wanted.some((w) => name.startsWith(`${w}/`)));

const checkpoints = readdirSync(join(runDir, 'checkpoints')).filter((name) => /^epoch-\d+$/.test(name));
let header = false;
for (const name of checkpoints.sort()) {
  const dir = join(runDir, 'checkpoints', name);
  const { step } = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { step: number };
  const live = await loadLayersModel(join(dir, 'generator'));
  const saved = await loadLayersModel(join(dir, 'generator-ema'));
  const average = GeneratorAverage.start(saved, await loadLayersModel(join(dir, 'generator-ema')), ema);
  average.recomputeStatistics(deriveSeed(config.seed, `ema-statistics:${step}`), config.data.batchSize);
  const rows = [
    ['live generator', await evaluator.evaluate(live)],
    ['average, saved statistics', await evaluator.evaluate(saved)],
    [`average, recomputed (${ema.statistics} batches)`, await evaluator.evaluate(average.model)],
  ] as const;
  const columns = shown(rows[0][1]);
  if (!header) {
    console.log(`| checkpoint | step | sampler | ${columns.join(' | ')} |`);
    console.log(`|${' --- |'.repeat(columns.length + 3)}`);
    header = true;
  }
  for (const [sampler, values] of rows) console.log(`| ${name} | ${step} | ${sampler} | ${columns.map((c) => values[c]!.toFixed(3)).join(' | ')} |`);
  [live, saved].forEach((model) => model.dispose());
  average.dispose();
}
