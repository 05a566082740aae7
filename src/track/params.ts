// What a run is, as MLflow params and tags: computed from the same facts by the live tracker and by
// `dcgan-run sync`, so both describe a run identically.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Experiment } from '../config/experiment.generated.ts';
import { writeFileAtomic } from './atomic.ts';
import { readRunConfig, type RunSummary } from './run-dir.ts';
import type { RunInfo } from './tracker.ts';

/** MLflow's limit on param and tag keys. */
export const MAX_KEY_LENGTH = 250;

/** Facts about a run that are not in config.yaml or summary.json, written at start so `sync` can describe the run later. */
export const RUN_INFO_FILE = 'run-info.json';

/** What a run's params and tags are made from: its RunInfo, with what sync can only sometimes recover. */
export interface RunFacts extends Omit<RunInfo, 'experiment' | 'datasetSize'> {
  /** Images in the dataset; unknown for a run directory written before run-info.json existed. */
  datasetSize?: number;
  gitCommit?: string;
  user?: string;
}

export interface RunDescription {
  runName: string;
  /** The key hyperparameters (KEY_PARAMS present in the config), the backend and the dataset size. */
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
export const KEY_PARAMS: Readonly<Record<string, (config: Experiment) => unknown>> = {
  epochs: (config) => config.train.epochs,
  batch_size: (config) => config.data.batchSize,
  lr_G: (config) => config.train.optimizers.generator.learningRate,
  lr_D: (config) => config.train.optimizers.discriminator.learningRate,
};

/** `user:password@` removed from every http(s) URL in `text`: what is sent to a server never carries credentials. */
export function redactCredentials(text: string): string {
  return text.replace(/\b(https?:\/\/)[^\s/?#@'"]*@/gi, '$1');
}

/** A key MLflow accepts: longer ones keep their start and get a hash of the whole key, so they stay distinct. */
export function limitKey(key: string): string {
  if (key.length <= MAX_KEY_LENGTH) return key;
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 10);
  return `${key.slice(0, MAX_KEY_LENGTH - hash.length - 1)}~${hash}`;
}

export function describeRun(facts: RunFacts): RunDescription {
  const params = Object.fromEntries(Object.entries(KEY_PARAMS).map(([name, read]) => [name, String(read(facts.config))]));
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

/** The MLflow experiment a config logs to. */
export function mlflowExperimentName(config: Experiment): string {
  return config.tracking.mlflow?.experiment ?? config.name;
}

/** HEAD of the git checkout holding `folder`, or undefined (not a checkout, no git). */
export function gitCommit(folder: string): string | undefined {
  try {
    const out = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: folder, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5_000 }).trim();
    return /^[0-9a-f]{40,64}$/.test(out) ? out : undefined;
  } catch {
    return undefined;
  }
}

export function osUser(): string | undefined {
  try {
    return userInfo().username || undefined;
  } catch {
    return process.env.USER || process.env.USERNAME || undefined;
  }
}

interface RunInfoFile {
  configFile: string;
  datasetSize: number;
  parentRunId?: string;
  gitCommit?: string;
  user?: string;
}

/** The facts of a starting run (git commit and user looked up now), also written to run-info.json in the run directory. */
export function recordRunFacts(info: RunInfo): RunFacts {
  const facts: RunFacts = {
    runId: info.runId,
    runDir: info.runDir,
    config: info.config,
    configFile: resolve(info.configFile),
    backend: info.backend,
    versions: info.versions,
    datasetSize: info.datasetSize,
    parentRunId: info.parentRunId,
    gitCommit: gitCommit(dirname(resolve(info.configFile))),
    user: osUser(),
  };
  const file: RunInfoFile = {
    configFile: facts.configFile,
    datasetSize: info.datasetSize,
    ...(facts.parentRunId ? { parentRunId: facts.parentRunId } : {}),
    ...(facts.gitCommit ? { gitCommit: facts.gitCommit } : {}),
    ...(facts.user ? { user: facts.user } : {}),
  };
  writeFileAtomic(join(info.runDir, RUN_INFO_FILE), `${JSON.stringify(file, null, 2)}\n`);
  return facts;
}

/**
 * The facts of a finished (or crashed) run, from its directory: config.yaml, summary.json and, when
 * present, run-info.json. Without run-info.json the config file is the run's config.yaml and the
 * dataset size is unknown.
 */
export function readRunFacts(runDir: string, summary: RunSummary): RunFacts {
  const config = readRunConfig(runDir);
  const infoPath = join(runDir, RUN_INFO_FILE);
  const info: Partial<RunInfoFile> = existsSync(infoPath) ? (JSON.parse(readFileSync(infoPath, 'utf8')) as RunInfoFile) : {};
  return {
    runId: summary.runId,
    runDir: resolve(runDir),
    config,
    configFile: info.configFile ?? resolve(runDir, 'config.yaml'),
    backend: summary.backend,
    versions: summary.versions,
    datasetSize: info.datasetSize,
    parentRunId: info.parentRunId,
    gitCommit: info.gitCommit,
    user: info.user ?? osUser(),
  };
}
