// `dcgan-run worker --queue redis://...`: takes trials from the queue, `concurrency` at a time, and runs each in
// its own process exactly as a local sweep does (src/sweep/trial-process.ts), so this process's event loop stays
// free and BullMQ renews each job's lock. A trial whose previous worker was lost (a stalled job) goes on from
// its checkpoint when its run directory is reachable here, else from its latest checkpoint in MLflow
// (mlflow-resume.ts) when it has one, and so does a promoted trial (sweep.earlyStop.promote: a job of its own,
// jobs.ts's recordJobId, naming the pruned run); a UserError or a diverged run is not retried.
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { newRunId, readMetrics } from '../../track/run-dir.ts';
import { readRunState } from '../../track/run-state.ts';
import { resumableRun } from '../runner.ts';
import { objectiveValue } from '../search/sweep-search.ts';
import { startTrialProcess, type TrialProcess } from '../trial-process.ts';
import { connect, QUEUE_NAME } from './connection.ts';
import type { TrialJobData, TrialJobProgress, TrialJobResult, TrialObjective } from './jobs.ts';
import { downloadCheckpoint } from './mlflow-resume.ts';
import { decideInQueue } from './rungs.ts';
import { cancelReason } from './state.ts';

export interface QueueWorkerOptions {
  url: string;
  concurrency: number;
  /** How long a job's lock lasts without renewal: a lost worker's trial is taken up again after about twice this. */
  lockSeconds: number;
  log: (line: string) => void;
}

export class QueueWorker {
  private readonly active = new Set<TrialProcess>();
  private stopping = false;
  private readonly worker: Worker<TrialJobData, TrialJobResult>;
  private readonly redis;

  constructor(private readonly options: QueueWorkerOptions) {
    this.redis = connect(options.url, (error) => options.log(`queue: ${error.message} (retrying)`));
    this.worker = new Worker<TrialJobData, TrialJobResult>(QUEUE_NAME, (job, token) => this.runTrial(job, token), {
      connection: this.redis,
      concurrency: options.concurrency,
      lockDuration: options.lockSeconds * 1000,
      stalledInterval: options.lockSeconds * 1000,
      maxStalledCount: 3,
      autorun: false,
    });
    this.worker.on('error', () => {});
    this.worker.on('failed', (job, error) => job && this.options.log(`[${job.data.trialName}] FAILED (attempt ${job.attemptsMade}): ${error.message}`));
  }

  async run(): Promise<void> {
    this.options.log(`worker ${hostname()} pid ${process.pid}: taking trials from ${this.options.url}, ${this.options.concurrency} at a time`);
    await this.worker.run();
  }

  /** Stops the running trials after their step, with a checkpoint, and puts their jobs back in the queue. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.options.log(`stopping ${this.active.size} running trial(s) after their step; their jobs go back to the queue`);
    for (const child of this.active) child.stop();
    await this.worker.close();
    await this.redis.quit().catch(() => {});
  }

  private async runTrial(job: Job<TrialJobData, TrialJobResult>, token?: string): Promise<TrialJobResult> {
    const { data } = job;
    const prefix = `[${data.trialName}]`;
    const previous = typeof job.progress === 'object' ? (job.progress as unknown as TrialJobProgress) : undefined;
    // The same attempt started before: its worker was lost or stopped, so its run goes on from the checkpoint
    // (its process, on this host, is waited for). A failed attempt starts over.
    const interrupted = previous !== undefined && previous.attempt === job.attemptsMade;
    // A promoted trial (sweep.earlyStop.promote) goes on from the checkpoint where it was pruned, found as an
    // interrupted one's is: its run directory if it is reachable here, else its latest checkpoint in MLflow.
    const earlier = interrupted
      ? previous
      : data.promotedFrom
        ? { ...data.promotedFrom, host: data.promotedFrom.host ?? 'another machine', pid: null }
        : undefined;
    const found = earlier ? await resumableRun(earlier.runDir, earlier.host === hostname() ? earlier.pid : null) : undefined;
    // Its process finished the trial after the job's lock was lost (a worker too busy to renew it): the result stands.
    if (interrupted && found && readRunState(found).status === 'finished') {
      this.options.log(`${prefix} its previous run ${found} finished after the job's lock was lost: its result stands (not run again)`);
      return this.finishedResult(job, found, previous.runId);
    }
    let resume = found && readRunState(found).status === 'stopped' ? found : undefined;
    let from = resume ? `its checkpoint${interrupted ? '' : ' (promoted)'}` : '';
    // Its run directory is not reachable here (another machine's disk): its latest checkpoint from MLflow, if any.
    if (earlier && !resume && !existsSync(earlier.runDir)) {
      const target = resolve(data.config.tracking.runsDir, data.config.name, earlier.runId);
      const downloaded = await downloadCheckpoint(data.config, earlier.runId, target).catch((error: unknown) => ({
        reason: error instanceof Error ? error.message : String(error),
      }));
      if ('reason' in downloaded) {
        this.options.log(
          `${prefix} its run directory ${earlier.runDir} (on ${earlier.host}) is not reachable here, nor a checkpoint in MLflow (${downloaded.reason}): starting over`,
        );
      } else {
        resume = downloaded.runDir;
        from = `checkpoint ${downloaded.checkpoint} downloaded from MLflow run ${downloaded.mlflowRunId} (its run directory ${earlier.runDir} on ${earlier.host} is not reachable here)`;
      }
    }
    const runId = resume ? earlier!.runId : newRunId();
    const runDir = resume ?? resolve(data.config.tracking.runsDir, data.config.name, runId);
    const progress: TrialJobProgress = {
      host: hostname(),
      workerPid: process.pid,
      pid: null,
      runId,
      runDir,
      startedAt: new Date().toISOString(),
      attempt: job.attemptsMade,
      resumed: resume !== undefined,
    };
    const outcome: TrialObjective = {};
    const child = startTrialProcess(
      {
        type: 'start',
        trialName: data.trialName,
        config: data.config,
        configFile: data.configFile,
        runId,
        parentRunId: data.parentRunId,
        quiet: data.quiet,
        resumeRunDir: resume,
      },
      (line) => this.options.log(`${prefix} ${line}`),
      process.env,
      data.search?.objective ? (epoch, values) => this.evaluated(job, progress, outcome, epoch, values) : undefined,
    );
    this.active.add(child);
    progress.pid = child.pid ?? null;
    this.options.log(
      `${prefix} ${resume ? `resumed from ${from}` : 'started'}: run ${runId}${job.attemptsMade > 0 ? ` (attempt ${job.attemptsMade + 1})` : ''}`,
    );
    let cancelled: string | null = null;
    const watch = setInterval(() => {
      void cancelReason(this.redis, data.sweepId).then(
        (reason) => {
          if (reason && !cancelled) {
            cancelled = reason;
            this.options.log(`${prefix} the sweep was ${reason}: stopping the trial`);
            child.stop();
          }
        },
        () => {},
      );
    }, 1000);
    try {
      await job.updateProgress(progress);
      if (this.stopping) child.stop();
      const reply = await child.result;
      if (cancelled) throw new UnrecoverableError(cancelled);
      if (reply.type === 'error') throw reply.userError ? new UnrecoverableError(reply.message) : new Error(reply.message);
      const { summary } = reply;
      if (summary.status === 'failed') throw new UnrecoverableError(summary.error ?? 'failed');
      if (reply.pruned || summary.status === 'finished') {
        const pruned = reply.pruned && outcome.pruned ? ` at epoch ${outcome.pruned.epoch} (rung ${outcome.pruned.rung})` : '';
        this.options.log(`${prefix} ${reply.pruned ? 'pruned' : 'finished'}${pruned}: ${summary.epochsDone} epochs in ${summary.wallSeconds.toFixed(1)} s`);
        return {
          ...outcome,
          status: reply.pruned ? 'pruned' : 'finished',
          metrics: reply.metrics,
          epochsDone: summary.epochsDone,
          runId,
          runDir: resolve(reply.runDir),
          host: hostname(),
          summary: { epochs: summary.epochs, epochsDone: summary.epochsDone, wallSeconds: summary.wallSeconds },
        };
      }
      // Stopped with a checkpoint: by this worker's shutdown the job goes back to the queue (no attempt used).
      if (this.stopping && token) {
        await job.moveToDelayed(Date.now(), token);
        throw new DelayedError();
      }
      throw new Error(`the trial stopped after ${summary.epochsDone}/${summary.epochs} epochs without finishing`);
    } finally {
      clearInterval(watch);
      this.active.delete(child);
    }
  }

  /** The job's result from a run directory whose run finished (metrics.jsonl's last epoch and evaluation). */
  private finishedResult(job: Job<TrialJobData, TrialJobResult>, runDir: string, runId: string): TrialJobResult {
    const { summary } = readRunState(runDir);
    const records = readMetrics(runDir);
    const last = records.findLast((m) => m.type === 'epoch');
    const evaluation = records.findLast((m) => m.type === 'eval');
    const value = job.data.search && evaluation ? objectiveValue(job.data.search, evaluation.values) : undefined;
    return {
      status: 'finished',
      metrics: last ? { epoch: last.epoch, lossD: last.lossD, lossG: last.lossG, dReal: last.dReal, dFake: last.dFake } : null,
      epochsDone: summary.epochsDone,
      runId,
      runDir: resolve(runDir),
      host: hostname(),
      summary: { epochs: summary.epochs, epochsDone: summary.epochsDone, wallSeconds: summary.wallSeconds },
      ...(value !== undefined ? { objective: { epoch: evaluation!.epoch, value } } : {}),
    };
  }

  /**
   * A trial's evaluation: its objective goes to the job's progress (`sweep status`, tpe's history); with
   * sweep.earlyStop, the decision is made against the sweep's rung data in Redis (rungs.ts).
   */
  private async evaluated(
    job: Job<TrialJobData, TrialJobResult>,
    progress: TrialJobProgress,
    outcome: TrialObjective,
    epoch: number,
    values: Record<string, number>,
  ): Promise<boolean> {
    const { search, sweepId, trialName, config } = job.data;
    const value = objectiveValue(search!, values);
    if (value === undefined) return false;
    outcome.objective = { epoch, value };
    let prune = false;
    if (search!.earlyStop) {
      const decision = await decideInQueue(this.redis, sweepId, trialName, epoch, value, search!, config.train.epochs);
      prune = decision.prune;
      if (prune) outcome.pruned = { rung: decision.rung!, epoch, value };
    }
    progress.objective = outcome.objective;
    await job.updateProgress(progress).catch(() => {});
    return prune;
  }
}
