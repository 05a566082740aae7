// A sweep's state as the queue holds it: each trial's job (queued, running where, finished, failed, pruned,
// cancelled) laid over the manifest stored when the sweep was enqueued. The coordinator's local manifest and
// `sweep status` both come from here.
import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { UserError } from '../../errors.ts';
import type { SweepManifest, TrialRecord } from '../../track/sweep-manifest.ts';
import { cancelKey, sweepKey } from './connection.ts';
import { recordJobId, type TrialJobData, type TrialJobProgress, type TrialJobResult } from './jobs.ts';

export const CANCELLED = 'cancelled by dcgan-run sweep cancel';

/** A job failed by a cancel (`sweep cancel`, or --fail-fast) rather than by its trial: its reason starts so. */
export const isCancelReason = (reason: string | undefined | null): boolean => reason?.startsWith('cancelled by ') ?? false;

export interface QueuedTrial {
  record: TrialRecord;
  /** queued, running, finished, failed, pruned or cancelled. */
  state: string;
  /** host and pid of the trial's process while it runs. */
  where: string | null;
}

export async function storedManifest(redis: Redis, sweepId: string): Promise<SweepManifest> {
  const manifest = await findStoredManifest(redis, sweepId);
  if (!manifest) throw new UserError(`no sweep ${sweepId} in this queue (a sweep's id is the name of its directory, sweep-<id>; it is known once enqueued)`);
  return manifest;
}

export async function findStoredManifest(redis: Redis, sweepId: string): Promise<SweepManifest | undefined> {
  const text = await redis.get(sweepKey(sweepId));
  return text ? (JSON.parse(text) as SweepManifest) : undefined;
}

/** Why the sweep was cancelled (`sweep cancel`, --fail-fast), or null. Keys set before reasons were kept hold a date. */
export async function cancelReason(redis: Redis, sweepId: string): Promise<string | null> {
  const value = await redis.get(cancelKey(sweepId));
  return value === null ? null : isCancelReason(value) ? value : CANCELLED;
}

function overlay(record: TrialRecord, job: Job<TrialJobData, TrialJobResult> | undefined, state: string, cancelled: string | null): QueuedTrial {
  const progress = job && typeof job.progress === 'object' ? (job.progress as unknown as TrialJobProgress) : undefined;
  const ran = progress
    ? {
        runId: progress.runId,
        runDir: progress.runDir,
        startedAt: progress.startedAt,
        // A promoted trial's earlier runs were jobs of their own (jobs.ts's recordJobId).
        attempts: (job?.attemptsMade ?? 0) + (job?.finishedOn ? 0 : 1) + (record.promoted?.length ?? 0),
        ...(progress.objective ? { objective: progress.objective } : {}),
      }
    : {};
  const ended = job?.finishedOn
    ? { endedAt: new Date(job.finishedOn).toISOString(), wallSeconds: job.processedOn ? (job.finishedOn - job.processedOn) / 1000 : null }
    : {};
  if (state === 'completed' && job?.returnvalue) {
    const result = job.returnvalue;
    const r = {
      ...record,
      ...ran,
      ...ended,
      status: result.status,
      metrics: result.metrics,
      epochsDone: result.epochsDone,
      runId: result.runId,
      runDir: result.runDir,
      objective: result.objective ?? null,
      pruned: result.pruned ?? null,
    };
    return { record: r, state: result.status, where: null };
  }
  if (state === 'active' && progress) {
    return {
      record: { ...record, ...ran, status: 'running', pid: progress.pid },
      state: 'running',
      where: `${progress.host} pid ${progress.pid ?? progress.workerPid}`,
    };
  }
  // A trial that failed before the cancel stays failed; the cancel stops (or removes) the others.
  if (state === 'failed' && !isCancelReason(job?.failedReason)) {
    return { record: { ...record, ...ran, ...ended, status: 'failed', error: job?.failedReason ?? 'failed' }, state: 'failed', where: null };
  }
  if (state === 'failed' || (cancelled && state !== 'active')) {
    const reason = state === 'failed' ? job!.failedReason : cancelled!;
    return { record: { ...record, ...ran, ...ended, status: 'stopped', error: reason }, state: 'cancelled', where: null };
  }
  return { record: { ...record, ...ran, status: 'pending' }, state: state === 'active' ? 'running' : 'queued', where: null };
}

/** Every trial of the sweep, from its latest job (id: the trial's configHash, its fingerprint, or its promoted job's; a job gone from the queue counts as queued, or cancelled after a cancel). */
export async function readSweepState(
  queue: Queue<TrialJobData, TrialJobResult>,
  redis: Redis,
  manifest: SweepManifest,
): Promise<{ trials: QueuedTrial[]; cancelled: string | null }> {
  const cancelled = await cancelReason(redis, manifest.sweepId);
  const trials = await Promise.all(
    manifest.trials.map(async (record) => {
      const job = await queue.getJob(recordJobId(record));
      const state = job ? await job.getState() : 'missing';
      return overlay(record, job, state, cancelled);
    }),
  );
  return { trials, cancelled };
}

/** A sweep's trials are settled when none waits or runs. */
export const settled = (trials: QueuedTrial[]): boolean => trials.every((t) => !['queued', 'running'].includes(t.state));
