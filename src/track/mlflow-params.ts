// What a run is, as MLflow params and tags: computed from the same facts by the live tracker and by
// `dcgan-run sync`, so both describe a run identically.
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { getAt } from '../config/pointer.ts';
import { redactCredentials } from './redact.ts';
import type { RunFacts } from './run-facts.ts';

/** MLflow's limit on param and tag keys. */
export const MAX_KEY_LENGTH = 250;

export interface RunDescription {
  runName: string;
  /** The key hyperparameters (KEY_PARAMS) and, for a sweep's trial, the keys its sweep varies. */
  params: Record<string, string>;
  tags: Record<string, string>;
  /** The whole resolved config, credentials removed: logged as a dict artifact beside config.yaml. */
  config: unknown;
}

/**
 * The settings logged as params, under short names as MLflow's autologgers name them: what tells runs apart in the
 * runs table and in comparisons. The Model metrics tab's sample-grid card lists a run's params above the grid, in
 * a card about 250 px tall: two lines of them still leave the grid in view, the 56 keys of a flattened config push
 * it out. The whole config is the config.yaml and config.json artifacts; backend and versions are tags.
 */
export const KEY_PARAMS: Readonly<Record<string, string>> = {
  epochs: 'train.epochs',
  batch_size: 'data.batchSize',
  lr_G: 'train.optimizers.generator.learningRate',
  lr_D: 'train.optimizers.discriminator.learningRate',
};

/**
 * The sweep parent run's tag listing the config keys its sweep varies (sweep.parameters' keys, as JSON). Each trial
 * logs those keys as params, so MLflow's compare view sets the trials side by side on what the sweep varied.
 */
export const SWEPT_KEYS_TAG = 'dcgan.sweep.parameters';

/** A config value as a param: scalars as the config writes them, mappings and lists as in config.json. */
function paramValue(value: unknown): string {
  return value !== null && typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/**
 * Params named after config keys: a key param under its short name, any other key under itself (as sweep.parameters
 * and summary.csv write it), so a key has the same name in every run and every sweep.
 */
function configParams(config: unknown, keys: readonly string[]): Record<string, string> {
  const shortNames = new Map(Object.entries(KEY_PARAMS).map(([name, key]) => [key, name]));
  return Object.fromEntries(keys.map((key) => [limitKey(shortNames.get(key) ?? key), paramValue(getAt(config, key.split('.')))]));
}

/** A key MLflow accepts: longer ones keep their start and get a hash of the whole key, so they stay distinct. */
export function limitKey(key: string): string {
  if (key.length <= MAX_KEY_LENGTH) return key;
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 10);
  return `${key.slice(0, MAX_KEY_LENGTH - hash.length - 1)}~${hash}`;
}

/** `sweptKeys`: for a sweep's trial, the keys its sweep varies (SWEPT_KEYS_TAG of its parent run). */
export function describeRun(facts: RunFacts, sweptKeys: readonly string[] = []): RunDescription {
  const params = configParams(facts.config, [...Object.values(KEY_PARAMS), ...sweptKeys]);
  const configFile = resolve(facts.configFile);
  const tags: Record<string, string> = {
    'mlflow.runName': facts.runId,
    'mlflow.source.name': configFile,
    'mlflow.source.type': 'LOCAL',
    'dcgan.configFile': configFile,
    'dcgan.seed': String(facts.config.seed),
    'dcgan.runDir': resolve(facts.runDir),
    'dcgan.runId': facts.runId,
    'dcgan.backend': facts.backend,
  };
  if (facts.datasetSize !== undefined) tags['dcgan.datasetSize'] = String(facts.datasetSize);
  if (facts.user) tags['mlflow.user'] = facts.user;
  if (facts.gitCommit) tags['mlflow.source.git.commit'] = facts.gitCommit;
  if (facts.parentRunId) tags['mlflow.parentRunId'] = facts.parentRunId;
  // Versions are facts about the software, not settings: tags.
  for (const [name, version] of Object.entries(facts.versions)) tags[limitKey(`dcgan.version.${name}`)] = version;
  const config = JSON.parse(redactCredentials(JSON.stringify(facts.config))) as unknown;
  return { runName: facts.runId, params, tags, config };
}
