// The generators a report's page can load: each checkpoint's model.json and weights.bin as a script
// (models/<id>.js) that adds them to a global, because browsers refuse fetch() of file:// URLs but run scripts.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { latestCheckpoint } from '../track/run-checkpoints.ts';
import { MODELS_GLOBAL, type EmbeddedModel, type ModelChoice } from './report-data.ts';

interface Candidate {
  id: string;
  label: string;
  dir: string;
}

/** The sampling generator (the weight average where kept, as `sample` uses) and the raw one, of latest and best. */
function candidates(runDir: string): Candidate[] {
  const found: Candidate[] = [];
  const add = (name: string, checkpoint: string) => {
    if (existsSync(join(checkpoint, 'generator-ema', 'model.json')))
      found.push({ id: `${name}-ema`, label: `${name} (EMA)`, dir: join(checkpoint, 'generator-ema') });
    if (existsSync(join(checkpoint, 'generator', 'model.json'))) found.push({ id: name, label: name, dir: join(checkpoint, 'generator') });
  };
  if (existsSync(join(runDir, 'checkpoints', 'latest.json'))) add('latest', latestCheckpoint(runDir));
  add('best', join(runDir, 'checkpoints', 'best'));
  return found;
}

function checkpointEpoch(generatorDir: string): number {
  const state = join(generatorDir, '..', 'state.json');
  return existsSync(state) ? (JSON.parse(readFileSync(state, 'utf8')) as { epoch: number }).epoch : 0;
}

/** Writes models/<id>.js for each distinct generator of the run (best is often latest), the default first. */
export function embedGenerators(runDir: string, outDir: string): ModelChoice[] {
  const seen = new Map<string, ModelChoice>();
  const choices: ModelChoice[] = [];
  mkdirSync(join(outDir, 'models'), { recursive: true });
  for (const candidate of candidates(runDir)) {
    const weights = readFileSync(join(candidate.dir, 'weights.bin'));
    const hash = createHash('sha256').update(weights).digest('hex');
    const same = seen.get(hash);
    if (same) {
      same.label += ` = ${candidate.label}`;
      continue;
    }
    const json = JSON.parse(readFileSync(join(candidate.dir, 'model.json'), 'utf8')) as tf.io.ModelJSON;
    const model: EmbeddedModel = {
      modelTopology: json.modelTopology as object,
      weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
      weightsBase64: weights.toString('base64'),
    };
    const script = `models/${candidate.id}.js`;
    writeFileSync(join(outDir, script), `(window.${MODELS_GLOBAL} ??= {})[${JSON.stringify(candidate.id)}] = ${JSON.stringify(model)};\n`);
    const choice = { id: candidate.id, label: candidate.label, script, epoch: checkpointEpoch(candidate.dir) };
    seen.set(hash, choice);
    choices.push(choice);
  }
  return choices;
}
