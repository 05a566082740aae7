// The sweep directory, <runsDir>/<experiment>/sweep-<id>/: manifest.json (the state of every trial, rewritten
// atomically on every change), sweep.yaml (the sweep section as written) and trials.json (the expanded trials).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Experiment, Sweep } from '../config/experiment.generated.ts';
import { configDifferences } from '../config/diff.ts';
import { UserError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { redactCredentials } from './redact.ts';
import { newRunId } from './run-dir.ts';
import { definitionHash, hashedPart, trialConfigHash } from './sweep-hash.ts';
import type { Trial } from '../config/sweep-expand.ts';

export const MANIFEST_VERSION = 1;

/** pruned: stopped by sweep.earlyStop at an evaluation, with a checkpoint; not run again on resume (unless promoted). */
export type TrialStatus = 'pending' | 'running' | 'finished' | 'failed' | 'stopped' | 'pruned';

/** The last epoch's means, from the trial's metrics.jsonl. */
export interface FinalMetrics {
  epoch: number;
  lossD: number;
  lossG: number;
  dReal: number;
  dFake: number;
}

export interface TrialRecord {
  index: number;
  name: string;
  values: Record<string, unknown>;
  configHash: string;
  status: TrialStatus;
  /** Runs this trial was started (more than 1 after resumes that reran it). */
  attempts: number;
  runId: string | null;
  runDir: string | null;
  /** The worker process while the trial runs. */
  pid?: number | null;
  epochsDone?: number;
  error: string | null;
  metrics: FinalMetrics | null;
  startedAt: string | null;
  endedAt: string | null;
  wallSeconds: number | null;
  /** sweep.objective at the trial's latest evaluation. */
  objective?: { epoch: number; value: number } | null;
  /** Where sweep.earlyStop stopped it: the rung, its epoch and the objective there. */
  pruned?: { rung: number; epoch: number; value: number } | null;
  /** sweep.earlyStop.promote: each time the trial, stopped at a rung, was promoted and went on (rung, epoch, value). */
  promoted?: { rung: number; epoch: number; value: number }[];
  /** The runs of earlier attempts (failed, stopped, interrupted), oldest first. */
  earlierRuns?: { runId: string; runDir: string | null; status: TrialStatus; error: string | null }[];
}

export interface SweepManifest {
  version: number;
  sweepId: string;
  experiment: string;
  configFile: string;
  definitionHash: string;
  strategy: Sweep['strategy'];
  /** tpe: the trials to make (its trials are added as they are suggested). */
  plannedTrials?: number;
  objective?: Sweep['objective'];
  parallel: number;
  status: 'running' | 'finished' | 'failed' | 'stopped';
  createdAt: string;
  updatedAt: string;
  /** The process running the sweep now (or last): a second process refuses to run the same sweep at once. */
  owner: { pid: number; host: string } | null;
  mlflow: { uri: string; experimentId: string; parentRunId: string } | null;
  trials: TrialRecord[];
}

/** A trial as stored in trials.json: enough to say what changed when a resume is refused. */
interface StoredTrial {
  index: number;
  name: string;
  values: Record<string, unknown>;
  configHash: string;
  config: Experiment;
}

export const MANIFEST = 'manifest.json';
const TRIALS = 'trials.json';
const SWEEP_YAML = 'sweep.yaml';

export class SweepDirectory {
  private constructor(
    readonly path: string,
    readonly manifest: SweepManifest,
  ) {}

  get id(): string {
    return this.manifest.sweepId;
  }

  file(name: string): string {
    return join(this.path, name);
  }

  /** A fresh sweep directory with every trial pending. */
  static create(root: string, config: Experiment, configFile: string, trials: Trial[]): SweepDirectory {
    const sweep = config.sweep!;
    const sweepId = `sweep-${newRunId()}`;
    const path = join(root, config.name, sweepId);
    const hashed = trials.map((trial) => ({ ...trial, configHash: trialConfigHash(trial.config) }));
    const now = new Date().toISOString();
    const manifest: SweepManifest = {
      version: MANIFEST_VERSION,
      sweepId,
      experiment: config.name,
      configFile,
      definitionHash: trialsHash(trials, config),
      strategy: sweep.strategy,
      ...(sweep.strategy === 'tpe' ? { plannedTrials: sweep.trials } : {}),
      ...(sweep.objective ? { objective: sweep.objective } : {}),
      parallel: sweep.parallel,
      status: 'running',
      createdAt: now,
      updatedAt: now,
      owner: null,
      mlflow: null,
      trials: hashed.map(pendingRecord),
    };
    const directory = new SweepDirectory(path, manifest);
    const stored: StoredTrial[] = hashed.map(({ index, name, values, configHash, config: trialConfig }) => ({
      index,
      name,
      values,
      configHash,
      config: trialConfig,
    }));
    // The configs hold tracking.mlflow.uri, and both files are uploaded as the parent run's artifacts: no password
    // in them (tracking is no part of a trial's hash, so resuming is unaffected).
    writeFileAtomic(directory.file(TRIALS), redactCredentials(`${JSON.stringify(stored, null, 2)}\n`));
    writeFileAtomic(directory.file(SWEEP_YAML), redactCredentials(`# The sweep of ${configFile}\n${stringify({ sweep })}`));
    directory.save();
    return directory;
  }

  static open(path: string): SweepDirectory {
    const file = join(path, MANIFEST);
    if (!existsSync(file)) throw new UserError(`${path}: not a sweep directory (no ${MANIFEST} in it)`);
    let manifest: SweepManifest;
    try {
      manifest = JSON.parse(readFileSync(file, 'utf8')) as SweepManifest;
    } catch (error) {
      throw new UserError(`${file}: unreadable (${(error as Error).message})`);
    }
    if (manifest.version !== MANIFEST_VERSION)
      throw new UserError(`${file}: manifest version ${manifest.version}, this dcgan-run reads version ${MANIFEST_VERSION}`);
    return new SweepDirectory(path, manifest);
  }

  /** The newest sweep directory of `experiment` under `root` whose definition hash is `hash`. */
  static findLatest(root: string, experiment: string, hash: string): SweepDirectory | undefined {
    const folder = join(root, experiment);
    if (!existsSync(folder)) return undefined;
    const candidates = readdirSync(folder, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && entry.name.startsWith('sweep-') && existsSync(join(folder, entry.name, MANIFEST)))
      .map((entry) => entry.name)
      .sort()
      .reverse();
    for (const name of candidates) {
      try {
        const directory = SweepDirectory.open(join(folder, name));
        if (directory.manifest.definitionHash === hash) return directory;
      } catch {
        // A damaged or foreign folder is not ours to resume.
      }
    }
    return undefined;
  }

  save(): void {
    this.manifest.updatedAt = new Date().toISOString();
    // Swept values and trial errors can quote a URI; the manifest is uploaded too.
    writeFileAtomic(this.file(MANIFEST), redactCredentials(`${JSON.stringify(this.manifest, null, 2)}\n`));
  }

  trial(name: string): TrialRecord {
    const found = this.manifest.trials.find((t) => t.name === name);
    if (!found) throw new Error(`no trial ${name} in ${this.path}`);
    return found;
  }

  update(name: string, change: Partial<TrialRecord>): TrialRecord {
    const record = Object.assign(this.trial(name), change);
    this.save();
    return record;
  }

  /** A trial made as the sweep runs (tpe), pending. */
  addTrial(trial: Trial): TrialRecord {
    const record = pendingRecord({ ...trial, configHash: trialConfigHash(trial.config) });
    this.manifest.trials.push(record);
    this.save();
    return record;
  }

  /** Claims the sweep for this process; refuses when another live process on this host holds it. */
  claim(): void {
    const { owner } = this.manifest;
    if (owner && owner.pid !== process.pid && owner.host === hostname() && isAlive(owner.pid)) {
      throw new UserError(`${this.path}: this sweep is being run by process ${owner.pid}; wait for it, stop it (Ctrl-C), or start a fresh sweep with --new`);
    }
    this.manifest.owner = { pid: process.pid, host: hostname() };
    this.manifest.status = 'running';
    this.save();
  }

  /** The trials stored when the sweep was created (with their configs). */
  storedTrials(): StoredTrial[] {
    const file = this.file(TRIALS);
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as StoredTrial[]) : [];
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function pendingRecord(trial: { index: number; name: string; values: Record<string, unknown>; configHash: string }): TrialRecord {
  const { index, name, values, configHash } = trial;
  return {
    index,
    name,
    values,
    configHash,
    status: 'pending',
    attempts: 0,
    runId: null,
    runDir: null,
    error: null,
    metrics: null,
    startedAt: null,
    endedAt: null,
    wallSeconds: null,
  };
}

/**
 * The hash a fresh sweep of these trials would get. tpe makes its trials as it runs: its hash covers the base
 * config and the search; so does it with earlyStop, whose decisions a resume keeps (grid and random sweeps
 * without either keep the hash they had).
 */
export function trialsHash(trials: Trial[], config?: Experiment): string {
  const hashed = trials.map((trial) => ({ name: trial.name, configHash: trialConfigHash(trial.config) }));
  const sweep = config?.sweep;
  if (!sweep || (sweep.strategy !== 'tpe' && !sweep.earlyStop)) return definitionHash(hashed);
  const { parameters, link, strategy, trials: count, objective, earlyStop, tpe } = sweep;
  // Not parallel nor maxTrials: they change no trial's result.
  const search = { ...config, sweep: { parameters, link, strategy, trials: count, objective, earlyStop, tpe } } as unknown as Experiment;
  return definitionHash([...hashed, { name: 'search', configHash: trialConfigHash(search) }]);
}

/** Says how the current trials differ from those a sweep directory was made with, one line per difference. */
export function describeDefinitionChange(directory: SweepDirectory, trials: Trial[], limit = 12): string[] {
  const before = directory.storedTrials();
  const beforeByName = new Map(before.map((t) => [t.name, t]));
  const nowNames = new Set(trials.map((t) => t.name));
  const lines: string[] = [];
  if (before.length !== trials.length) lines.push(`${before.length} trials in the sweep directory, ${trials.length} now`);
  for (const trial of trials) {
    const old = beforeByName.get(trial.name);
    if (!old) {
      lines.push(`trial ${trial.name} is new`);
      continue;
    }
    if (old.configHash === trialConfigHash(trial.config)) continue;
    const changes = configDifferences(hashedPart(old.config), hashedPart(trial.config));
    lines.push(`trial ${trial.name} changed: ${changes.slice(0, 4).join('; ')}${changes.length > 4 ? `; and ${changes.length - 4} more` : ''}`);
  }
  for (const old of before) if (!nowNames.has(old.name)) lines.push(`trial ${old.name} is gone`);
  if (lines.length === 0) {
    // Same names and configs but another order (or a sweep directory without trials.json).
    lines.push('the trials are listed in another order, or the sweep directory lacks its trials.json');
  }
  return lines.length > limit ? [...lines.slice(0, limit), `... and ${lines.length - limit} more differences`] : lines;
}
