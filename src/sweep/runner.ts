// Runs a sweep: picks (or makes) its sweep directory, runs the trials that are not finished through a
// p-queue of `sweep.parallel` worker processes, keeps manifest.json current, and writes the summary.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import PQueue from 'p-queue';
import type { Experiment } from '../config/experiment.generated.ts';
import type { LoadedExperiment } from '../config/load-experiment.ts';
import { UserError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { newRunId } from '../track/run-dir.ts';
import { readRunState } from '../track/run-state.ts';
import { checkWritableFolder } from '../io/writable.ts';
import { expandSweep, type Trial } from '../config/sweep-expand.ts';
import { describeDefinitionChange, isAlive, SweepDirectory, trialsHash, type TrialRecord, type SweepManifest } from '../track/sweep-manifest.ts';
import { mlflowTarget } from '../track/mlflow-connect.ts';
import { ParentRun } from './mlflow-parent.ts';
import { startTrialProcess, type TrialProcess } from './trial-process.ts';
import { formatMetric, statusCounts, summaryCsv, summaryMarkdown, summaryText, sweepComplete } from './summary.ts';
import { SweepSearch } from './search/sweep-search.ts';

export interface SweepOptions {
  configFile: string;
  /** Stop the sweep at the first failed trial (the running ones stop with a checkpoint). */
  failFast?: boolean;
  /** Resume this sweep directory; refused if its trials differ from the config's. */
  resume?: string;
  /** Start a fresh sweep directory even if one with the same definition exists. */
  fresh?: boolean;
  quiet?: boolean;
  /** Where progress and trial output go (stderr). */
  log?: (line: string) => void;
  /** Where the final table goes (stdout). */
  print?: (text: string) => void;
  /** Seconds between progress lines while nothing else happens. */
  progressEvery?: number;
  env?: NodeJS.ProcessEnv;
}

export interface SweepOutcome {
  /** 0 all finished, 1 a trial failed, 130 interrupted. */
  exitCode: 0 | 1 | 130;
  directory: SweepDirectory;
}

const seconds = (from: string | null, to = Date.now()) => (from ? (to - Date.parse(from)) / 1000 : 0);
/** A metric in a log line: metrics.jsonl of a run from before divergence stopped runs holds null for NaN. */
const shown = (value: number | null, digits: number) => formatMetric(value, digits, 'non-finite');

export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.round(totalSeconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * The run directory of an interrupted trial that can go on from its checkpoint. The worker of a killed sweep
 * stops by itself when it loses the sweep (with a checkpoint): it is waited for, 60 s at most.
 */
export async function resumableRun(runDir: string | null, pid?: number | null): Promise<string | undefined> {
  if (!runDir) return undefined;
  for (const deadline = Date.now() + 60_000; pid && isAlive(pid) && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 200));
  if (!existsSync(join(runDir, 'checkpoints', 'latest.json')) || !existsSync(join(runDir, 'summary.json'))) return undefined;
  // A worker killed with its trial (kill -9) leaves summary.json saying running: such a run shows as crashed.
  return readRunState(runDir).status === 'running' ? undefined : runDir;
}

/** Picks the sweep directory: --resume's, else the latest with the same definition (unless --new), else a new one. */
export function openSweepDirectory(config: Experiment, trials: Trial[], options: Pick<SweepOptions, 'resume' | 'fresh' | 'configFile'>): SweepDirectory {
  const { resume, fresh, configFile } = options;
  const root = resolve(config.tracking.runsDir);
  const hash = trialsHash(trials, config);
  if (resume !== undefined) {
    if (fresh) throw new UserError('--resume and --new contradict each other: give one');
    const directory = SweepDirectory.open(resolve(resume));
    if (directory.manifest.definitionHash !== hash) {
      const changes = describeDefinitionChange(directory, trials);
      throw new UserError(
        [
          `${resume}: cannot resume, the sweep definition changed since this sweep was started (its trials differ from the ones ${configFile} now gives):`,
          ...changes.map((line) => `  ${line}`),
          'Undo the change to resume this sweep, or run without --resume (or with --new) to start a sweep of the new definition.',
        ].join('\n'),
      );
    }
    return directory;
  }
  checkWritableFolder(config.tracking.runsDir, 'tracking.runsDir');
  if (!fresh) {
    const latest = SweepDirectory.findLatest(root, config.name, hash);
    if (latest) return latest;
  }
  return SweepDirectory.create(root, config, resolve(configFile), trials);
}

/** summary.csv and summary.md of the sweep directory, from its manifest. */
export function writeSummaryFiles(directory: SweepDirectory): void {
  writeFileAtomic(directory.file('summary.csv'), summaryCsv(directory.manifest));
  writeFileAtomic(directory.file('summary.md'), summaryMarkdown(directory.manifest));
}

export class SweepRunner {
  private readonly config: Experiment;
  private readonly trials: Trial[];
  /** Progress and trial output (silenced by --quiet). */
  private readonly log: (line: string) => void;
  /** Failures and warnings (always shown). */
  private readonly warn: (line: string) => void;
  /** Trials queued in this session and not started yet. */
  private readonly queued = new Set<string>();
  private readonly print: (text: string) => void;
  private readonly active = new Map<string, TrialProcess>();
  private readonly queue: PQueue;
  /** tpe's suggestions and early stopping, when the sweep has either. */
  private readonly search: SweepSearch | undefined;
  private directory: SweepDirectory | undefined;
  /** The sweep's trials by name (tpe's as they are made): what a promoted trial runs again. */
  private readonly known = new Map<string, Trial>();
  private parent: ParentRun | undefined;
  private stopping: 'interrupt' | 'fail-fast' | undefined;
  private killed = false;
  private startedAt = Date.now();

  constructor(
    loaded: LoadedExperiment,
    private readonly options: SweepOptions,
  ) {
    this.config = loaded.config;
    if (!this.config.sweep) throw new Error('SweepRunner needs a config with a sweep section');
    this.trials = expandSweep(this.config, loaded.composed.origins);
    this.search = SweepSearch.of(this.config, loaded.composed.origins);
    this.warn = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.log = options.quiet ? () => {} : this.warn;
    this.print = options.print ?? ((text) => process.stdout.write(text));
    this.queue = new PQueue({ concurrency: this.config.sweep.parallel });
  }

  async run(): Promise<SweepOutcome> {
    this.startedAt = Date.now();
    const directory = (this.directory = openSweepDirectory(this.config, this.trials, this.options));
    const { manifest } = directory;
    directory.claim();
    this.search?.attach(directory);
    const resumed = manifest.trials.some((t) => t.status !== 'pending');
    // A trial left 'running' belonged to a sweep process that was killed.
    for (const t of manifest.trials) {
      if (t.status === 'running')
        Object.assign(t, { status: 'stopped', error: 'interrupted: the sweep process ended while this trial ran' } satisfies Partial<TrialRecord>);
    }
    directory.save();
    const made = this.search?.madeTrials() ?? { trials: [], toSuggest: 0 };
    for (const trial of [...this.trials, ...made.trials]) this.known.set(trial.name, trial);
    // A pruned trial keeps its decision: a resumed sweep does not run it again (unless it is promoted, below).
    const todo = [...this.trials, ...made.trials].filter((trial) => !['finished', 'pruned'].includes(directory.trial(trial.name).status));
    const { parallel, strategy } = this.config.sweep!;
    this.log(
      `sweep ${directory.id}: ${this.trials.length} trial${this.trials.length === 1 ? '' : 's'} (${strategy}), ${parallel} at a time; ${directory.path}`,
    );
    if (resumed) {
      const counts = statusCounts(manifest);
      this.log(
        `resuming: ${counts.finished} finished (skipped), ${todo.length} to run${counts.failed + counts.stopped > 0 ? ` (${counts.failed} failed and ${counts.stopped} stopped or interrupted run again)` : ''}`,
      );
    }

    const target = mlflowTarget(this.config, this.options.env);
    if (target) {
      try {
        this.parent = await ParentRun.open(this.config, directory, target, { log: this.log, warn: this.warn }, this.options.env);
      } catch (error) {
        manifest.owner = null;
        directory.save();
        throw error;
      }
    }

    const ticker = setInterval(() => this.progressLine(), (this.options.progressEvery ?? 30) * 1000);
    ticker.unref();
    try {
      for (const trial of todo) {
        this.queued.add(trial.name);
        void this.queue.add(() => this.runTrial(trial)).catch((error: unknown) => this.trialCrashed(trial, error));
      }
      // tpe's trials are suggested when a lane frees, from the results so far.
      for (let slot = 1; slot <= made.toSuggest; slot++) {
        const placeholder = `(suggestion ${slot})`;
        this.queued.add(placeholder);
        void this.queue
          .add(async () => {
            this.queued.delete(placeholder);
            if (this.stopping) return;
            const trial = this.search!.nextTrial();
            this.known.set(trial.name, trial);
            await this.runTrial(trial);
          })
          .catch((error: unknown) =>
            this.warn(`the sweep could not suggest a trial: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
          );
      }
      this.promoteWhileFree(false);
      await this.queue.onIdle();
      // At the end: a promoted trial's rung values can make another one promotable.
      while (this.promoteWhileFree(false) > 0) await this.queue.onIdle();
      // Trials stopped by a second Ctrl-C leave the queue at once; their processes are gone.
    } finally {
      clearInterval(ticker);
    }
    return this.finish();
  }

  /**
   * sweep.earlyStop.promote: while a trial slot is free and no trial waits, promotes the best pruned trial the
   * rungs now rank within its rung's top share and queues it (resumed from its checkpoint). `ending`: called by a
   * trial's task as it ends (its slot counts as free). Returns how many it promoted.
   */
  private promoteWhileFree(ending: boolean): number {
    let promoted = 0;
    while (this.search && !this.stopping && this.queue.size === 0 && this.queue.pending - (ending ? 1 : 0) < this.config.sweep!.parallel) {
      const name = this.search.promote();
      if (!name) break;
      const trial = this.known.get(name);
      if (!trial) throw new Error(`promoted trial ${name} is not one of the sweep's`);
      const record = this.directory!.trial(name);
      const at = record.promoted!.at(-1)!;
      this.log(`[${name}] promoted at epoch ${at.epoch} (rung ${at.rung}): within the rung's top share now`);
      promoted += 1;
      this.queued.add(name);
      void this.queue.add(() => this.runTrial(trial, true)).catch((error: unknown) => this.trialCrashed(trial, error));
    }
    return promoted;
  }

  private async runTrial(trial: Trial, promoted = false): Promise<void> {
    const directory = this.directory!;
    if (this.stopping) return;
    this.queued.delete(trial.name);
    const previous = directory.trial(trial.name);
    // An interrupted trial goes on from its checkpoint, as does a promoted one (it stopped at its rung with one);
    // a failed one (or one with no checkpoint) starts over.
    const resume = previous.status === 'stopped' || promoted ? await resumableRun(previous.runDir, previous.pid) : undefined;
    const runId = resume ? previous.runId! : newRunId();
    const earlier =
      previous.runId && !resume
        ? [
            ...(previous.earlierRuns ?? []),
            { runId: previous.runId, runDir: previous.runDir, status: promoted ? ('pruned' as const) : previous.status, error: previous.error },
          ]
        : previous.earlierRuns;
    const record = directory.update(trial.name, {
      ...(earlier ? { earlierRuns: earlier } : {}),
      status: 'running',
      attempts: directory.trial(trial.name).attempts + 1,
      runId,
      runDir: resume ?? resolve(trial.config.tracking.runsDir, trial.config.name, runId),
      error: null,
      metrics: null,
      epochsDone: 0,
      startedAt: new Date().toISOString(),
      endedAt: null,
      wallSeconds: null,
    });
    const prefix = `[${trial.name}]`;
    this.log(`${prefix} ${resume ? 'resumed from its checkpoint' : 'started'}: run ${runId}${record.attempts > 1 ? ` (attempt ${record.attempts})` : ''}`);
    const child = startTrialProcess(
      {
        type: 'start',
        trialName: trial.name,
        config: trial.config,
        configFile: resolve(this.options.configFile),
        runId,
        parentRunId: this.parent?.runId,
        quiet: this.options.quiet ?? false,
        resumeRunDir: resume,
      },
      // The worker is quiet itself under --quiet: what it still prints are warnings and errors.
      (line) => this.warn(`${prefix} ${line}`),
      this.options.env,
      (epoch, values) => this.search?.evaluated(trial, epoch, values) ?? false,
    );
    this.active.set(trial.name, child);
    directory.update(trial.name, { pid: child.pid ?? null });
    this.progressLine();
    if (this.stopping) child.stop();
    const reply = await child.result;
    this.active.delete(trial.name);
    directory.trial(trial.name).pid = null;
    if (this.killed) return directory.save();
    const endedAt = new Date().toISOString();
    const wallSeconds = seconds(record.startedAt);
    if (reply.type === 'done' && reply.status !== 'failed') {
      directory.update(trial.name, {
        status: reply.pruned ? 'pruned' : reply.status === 'running' ? 'stopped' : reply.status,
        metrics: reply.metrics,
        epochsDone: reply.summary.epochsDone,
        error:
          reply.status === 'stopped' && !reply.pruned
            ? `stopped after ${reply.summary.epochsDone}/${reply.summary.epochs} epochs (${this.stopping === 'fail-fast' ? 'another trial failed and --fail-fast is set' : 'interrupted'})`
            : null,
        endedAt,
        wallSeconds,
      });
      const m = reply.metrics;
      this.log(
        `${prefix} ${reply.pruned ? 'pruned' : reply.status} in ${formatDuration(wallSeconds)}${m ? `: epoch ${m.epoch} lossD ${shown(m.lossD, 4)} lossG ${shown(m.lossG, 4)} dReal ${shown(m.dReal, 3)} dFake ${shown(m.dFake, 3)}` : ''}`,
      );
    } else {
      // A run that failed by itself (it diverged) reports as done: its reason, and its last good epoch's metrics.
      const message = reply.type === 'error' ? reply.message : (reply.summary.error ?? 'failed');
      const outcome = reply.type === 'done' ? { metrics: reply.metrics, epochsDone: reply.summary.epochsDone } : {};
      directory.update(trial.name, { status: 'failed', error: message, ...outcome, endedAt, wallSeconds });
      this.warn(`${prefix} FAILED after ${formatDuration(wallSeconds)}: ${message}`);
      if (this.options.failFast && !this.stopping) {
        this.warn(`--fail-fast: stopping the sweep because ${trial.name} failed`);
        this.stop('fail-fast');
      }
    }
    this.progressLine();
    this.promoteWhileFree(true);
  }

  /** Stops the sweep: no new trials; running ones stop after their step, with a checkpoint, and are marked stopped. */
  stop(reason: 'interrupt' | 'fail-fast' = 'interrupt'): void {
    if (this.stopping) return;
    this.stopping = reason;
    this.queue.clear();
    this.queued.clear();
    if (reason === 'interrupt')
      this.log(
        `stopping ${this.active.size} running trial${this.active.size === 1 ? '' : 's'} after their current step (Ctrl-C again to kill them at once)...`,
      );
    for (const child of this.active.values()) child.stop();
  }

  /** Kills the running trials at once (a second Ctrl-C) and records them as stopped. */
  kill(): void {
    this.killed = true;
    this.stopping ??= 'interrupt';
    this.queue.clear();
    this.queued.clear();
    for (const [name, child] of this.active) {
      child.kill();
      if (this.directory)
        Object.assign(this.directory.trial(name), {
          status: 'stopped',
          error: 'killed by a second interrupt (no checkpoint of the last steps)',
          endedAt: new Date().toISOString(),
        });
    }
    if (this.directory) {
      this.directory.manifest.status = 'stopped';
      this.directory.manifest.owner = null;
      this.directory.save();
    }
  }

  /** Trials done, running, failed, and an estimate of the time left from the trials' durations so far. */
  progressLine(): void {
    const manifest = this.directory?.manifest;
    if (!manifest) return;
    const settled = manifest.trials.filter((t) => !this.queued.has(t.name) && !this.active.has(t.name));
    const finished = settled.filter((t) => t.status === 'finished').length;
    const failed = settled.filter((t) => t.status === 'failed').length;
    this.log(
      `sweep: ${finished + failed}/${manifest.trials.length} done (${finished} finished, ${failed} failed), ${this.active.size} running, ${this.queued.size} to go, ETA ${this.eta(manifest)}`,
    );
  }

  private eta(manifest: SweepManifest): string {
    const waiting = this.queued.size;
    const running = manifest.trials.filter((t) => this.active.has(t.name));
    if (waiting + running.length === 0) return '0s';
    if (this.stopping) return '-';
    const durations = manifest.trials.filter((t) => t.status === 'finished' && t.wallSeconds).map((t) => t.wallSeconds!);
    if (durations.length === 0) return 'unknown until a trial finishes';
    const average = durations.reduce((a, b) => a + b, 0) / durations.length;
    const work = waiting * average + running.reduce((sum, t) => sum + Math.max(average - seconds(t.startedAt), 0), 0);
    const lanes = Math.min(this.config.sweep!.parallel, waiting + running.length);
    return formatDuration(work / lanes);
  }

  /** A bug in running a trial (not the trial failing): recorded as its failure so the sweep can go on. */
  private trialCrashed(trial: Trial, error: unknown): void {
    this.active.delete(trial.name);
    const message = `the sweep could not run this trial: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
    this.warn(`[${trial.name}] ${message}`);
    this.directory?.update(trial.name, { status: 'failed', error: message, pid: null, endedAt: new Date().toISOString() });
    if (this.options.failFast) this.stop('fail-fast');
  }

  private async finish(): Promise<SweepOutcome> {
    const directory = this.directory!;
    const { manifest } = directory;
    const counts = statusCounts(manifest);
    manifest.status = this.stopping === 'interrupt' ? 'stopped' : counts.failed > 0 ? 'failed' : sweepComplete(manifest) ? 'finished' : 'stopped';
    manifest.owner = null;
    directory.save();
    writeSummaryFiles(directory);
    if (this.parent) {
      const status = manifest.status === 'finished' ? 'FINISHED' : manifest.status === 'failed' ? 'FAILED' : 'KILLED';
      try {
        await this.parent.finish(directory, status);
      } catch (error) {
        this.warn(`mlflow: could not finish the parent run ${this.parent.runId}: ${(error as Error).message}`);
      }
    }
    if (!this.killed) this.print(`\n${summaryText(manifest)}`);
    const exitCode = this.stopping === 'interrupt' ? 130 : counts.failed > 0 ? 1 : manifest.status === 'finished' ? 0 : 1;
    const took = formatDuration((Date.now() - this.startedAt) / 1000);
    this.log(
      `sweep ${manifest.status} in ${took}: ${counts.finished} finished, ${counts.pruned > 0 ? `${counts.pruned} pruned, ` : ''}${counts.failed} failed, ${counts.stopped} stopped, ${counts.pending} not started; summary in ${directory.file('summary.md')}${manifest.status === 'finished' ? '' : `\nrun the same command again to resume (finished trials are kept), or with --resume ${directory.path}`}`,
    );
    return { exitCode, directory };
  }
}
