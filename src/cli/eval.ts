import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.ts';
import { useBackend } from '../backend/select.ts';
import { loadDataset } from '../data/dataset.ts';
import { cacheFolder } from '../io/cache-folder.ts';
import { isLabeled } from '../plan/source.ts';
import { createEvaluator } from '../eval/evaluate.ts';
import { latestCheckpoint, loadSamplingGenerator } from '../track/run-checkpoints.ts';
import { loadLayersModel } from '../model/io.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { readRunConfig } from '../track/run-dir.ts';
import { statusNote } from '../track/run-state.ts';
import type { Experiment } from '../config/experiment.generated.ts';
import { schemasAt } from '../config/schema.ts';
import { CLASSIFIER_NEEDS_LABELS, PER_CLASS_NEEDS_CLASSIFIER } from '../config/semantic.ts';

type EvalMetrics = NonNullable<Experiment['train']['eval']>['metrics'];
type EvalMetric = EvalMetrics[number];

/** --metrics: a comma-separated list of what train.eval.metrics takes (the schema's names), checked as that key is. */
function parseMetrics(list: string, labeled: boolean): EvalMetrics {
  const known = (schemasAt(['train', 'eval', 'metrics', '0'])[0]?.enum ?? []) as EvalMetric[];
  const metrics = [...new Set(list.split(',').map((name) => name.trim()))].filter(Boolean) as EvalMetric[];
  const unknown = metrics.filter((name) => !known.includes(name));
  if (metrics.length === 0 || unknown.length > 0)
    throw new UserError(`--metrics: ${unknown.length > 0 ? `no metric ${unknown.join(', ')}` : 'none given'}; there are ${known.join(', ')}`);
  if (metrics.includes('classifier') && !labeled) throw new UserError(`--metrics: ${CLASSIFIER_NEEDS_LABELS}`);
  if (metrics.includes('perClass') && !metrics.includes('classifier')) throw new UserError(`--metrics: ${PER_CLASS_NEEDS_CLASSIFIER}`);
  return metrics as EvalMetrics;
}

/** Quality metrics of a run's generator (latest or best checkpoint), written to <run-dir>/eval-<checkpoint>.json. */
export async function evalCommand(runDir: string, options: { checkpoint: string; samples?: number; metrics?: string }): Promise<void> {
  const config = readRunConfig(runDir);
  const labeled = isLabeled(config.data.source);
  const settings = {
    every: 1,
    samples: options.samples ?? config.train.eval?.samples ?? 1000,
    metrics:
      options.metrics !== undefined
        ? parseMetrics(options.metrics, labeled)
        : (config.train.eval?.metrics ?? (labeled ? (['classifier', 'patches'] as const) : (['patches'] as const))),
  };
  const checkpoint = options.checkpoint === 'latest' ? latestCheckpoint(runDir) : join(runDir, 'checkpoints', options.checkpoint);
  if (!existsSync(join(checkpoint, 'generator', 'model.json'))) throw new UserError(`${checkpoint}: no generator checkpoint there`);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const note = statusNote(runDir);
  if (note) log(note);
  log(`backend: ${await useBackend(config.train.backend)}`);
  const dataset = await loadDataset(config.data, { cacheDir: cacheFolder('data'), log });
  const evaluator = await createEvaluator(config, { ...settings, metrics: [...settings.metrics] as EvalMetrics }, dataset, {
    cacheDir: cacheFolder('classifiers'),
    log,
  });
  const generator = await loadSamplingGenerator(checkpoint);
  // deadUnits runs the checkpoint's discriminator as training does (and leaves it as it was).
  const discriminator = settings.metrics.includes('deadUnits') ? await loadLayersModel(join(checkpoint, 'discriminator')) : undefined;
  const values = await evaluator.evaluate(generator, discriminator);
  const name = checkpoint.split('/').pop()!;
  writeFileAtomic(join(runDir, `eval-${name}.json`), `${JSON.stringify({ checkpoint: name, samples: settings.samples, values }, null, 2)}\n`);
  const width = Math.max(...Object.keys(values).map((k) => k.length));
  for (const [key, value] of Object.entries(values)) process.stdout.write(`${key.padEnd(width)}  ${value.toFixed(5)}\n`);
  process.stderr.write(`wrote ${join(runDir, `eval-${name}.json`)}\n`);
}
