// A sweep trial as a BullMQ job: its data (the trial's whole config), where it runs (the job's progress), its
// result, and the enqueueing of a sweep's trials under their fingerprints, so that enqueueing twice adds nothing.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Experiment, Sweep } from '../../config/experiment.generated.ts';
import type { Trial } from '../../config/sweep-expand.ts';
import type { RunSummary } from '../../track/run-types.ts';
import { trialConfigHash } from '../../track/sweep-hash.ts';
import type { FinalMetrics, SweepManifest, TrialRecord } from '../../track/sweep-manifest.ts';
import { cancelKey, sweepKey } from './connection.ts';

export interface TrialJobData {
  sweepId: string;
  trialName: string;
  config: Experiment;
  configFile: string;
  parentRunId?: string;
  quiet: boolean;
  /** sweep.objective and sweep.earlyStop: the worker reports the objective and decides on pruning (rungs.ts). */
  search?: Pick<Sweep, 'objective' | 'earlyStop'>;
  /** sweep.earlyStop.promote: the pruned run this promoted job resumes from its checkpoint (as a lost worker's). */
  promotedFrom?: { runId: string; runDir: string; host?: string };
}

/** The objective at a trial's latest evaluation, and where early stopping pruned it. */
export interface TrialObjective {
  objective?: { epoch: number; value: number } | null;
  pruned?: { rung: number; epoch: number; value: number } | null;
}

/** Where the trial runs now (or ran last): written by the worker when it starts the trial's process. */
export interface TrialJobProgress extends TrialObjective {
  host: string;
  workerPid: number;
  /** The trial's own process. */
  pid: number | null;
  runId: string;
  /** On the worker's machine. */
  runDir: string;
  startedAt: string;
  /** job.attemptsMade when it started: the same number on the next start means it was interrupted, not failed. */
  attempt: number;
  resumed: boolean;
}

export interface TrialJobResult extends TrialObjective {
  status: 'finished' | 'pruned';
  metrics: FinalMetrics | null;
  epochsDone: number;
  runId: string;
  runDir: string;
  host: string;
  summary: Pick<RunSummary, 'epochs' | 'epochsDone' | 'wallSeconds'>;
}

/** The sweep's manifest in the queue (its trials, as enqueued): `sweep status` and a restarted coordinator read it. */
export async function storeManifest(redis: Redis, manifest: SweepManifest): Promise<void> {
  await redis.set(sweepKey(manifest.sweepId), JSON.stringify(manifest));
}

/** The job id of a trial: its fingerprint (the hash of its config without tracking). */
export const trialJobId = (trial: Trial): string => trialConfigHash(trial.config);

/**
 * The job of a trial's latest run: its fingerprint, or after its n-th promotion (sweep.earlyStop.promote)
 * `<fingerprint>-promoted-<n>`. A distinct id rather than removing the completed job: the pruned job's result stays
 * in the queue as the record of that run, and adding the promoted job again (a coordinator restarted between
 * storing the promotion and enqueueing it) adds nothing, as for any trial. (BullMQ refuses ':' in custom ids.)
 */
export const recordJobId = (record: Pick<TrialRecord, 'configHash' | 'promoted'>): string => {
  const promotions = record.promoted?.length ?? 0;
  return promotions === 0 ? record.configHash : `${record.configHash}-promoted-${promotions}`;
};

/**
 * Adds the trials not in the queue yet (a job id already there, waiting, running or finished, is left as it is) and
 * stores the sweep's manifest for `sweep status`. Returns how many jobs were new.
 */
export async function enqueueTrials(
  queue: Queue<TrialJobData, TrialJobResult>,
  redis: Redis,
  manifest: SweepManifest,
  trials: Trial[],
  job: Omit<TrialJobData, 'trialName' | 'config' | 'sweepId'>,
  retries: number,
): Promise<number> {
  await storeManifest(redis, manifest);
  // Enqueued again after `sweep cancel`: the sweep goes on; its failed and cancelled trials run again (a
  // cancelled one from its checkpoint), like a local sweep run again.
  await redis.del(cancelKey(manifest.sweepId));
  const before = await Promise.all(
    trials.map(async (trial) => {
      const record = manifest.trials.find((r) => r.name === trial.name);
      const job = await queue.getJob(record ? recordJobId(record) : trialJobId(trial));
      if (job && (await job.getState()) === 'failed') await job.retry('failed');
      return job !== undefined;
    }),
  );
  await addTrialJobs(queue, manifest, trials, job, retries);
  return before.filter((known) => !known).length;
}

/**
 * Adds a job for each trial under its fingerprint (a job id already in the queue is left as it is); a promoted
 * trial's under its promoted id (recordJobId), resuming its pruned run.
 */
export async function addTrialJobs(
  queue: Queue<TrialJobData, TrialJobResult>,
  manifest: SweepManifest,
  trials: Trial[],
  job: Omit<TrialJobData, 'trialName' | 'config' | 'sweepId'>,
  retries: number,
): Promise<void> {
  await queue.addBulk(
    trials.map((trial) => {
      const record = manifest.trials.find((r) => r.name === trial.name);
      const promoted = record?.promoted?.length && record.runId && record.runDir ? record : undefined;
      return {
        name: trial.name,
        data: {
          ...job,
          sweepId: manifest.sweepId,
          trialName: trial.name,
          config: trial.config,
          ...(promoted ? { promotedFrom: { runId: promoted.runId!, runDir: promoted.runDir! } } : {}),
        },
        opts: {
          jobId: promoted ? recordJobId(promoted) : trialJobId(trial),
          attempts: retries + 1,
          backoff: { type: 'fixed', delay: 1000 },
          removeOnComplete: false,
          removeOnFail: false,
        },
      };
    }),
  );
}
