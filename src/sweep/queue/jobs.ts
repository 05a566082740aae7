// A sweep trial as a BullMQ job: its data (the trial's whole config), where it runs (the job's progress), its
// result, and the enqueueing of a sweep's trials under their fingerprints, so that enqueueing twice adds nothing.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Experiment } from '../../config/experiment.generated.ts';
import type { Trial } from '../../config/sweep-expand.ts';
import type { RunSummary } from '../../track/run-types.ts';
import { trialConfigHash } from '../../track/sweep-hash.ts';
import type { FinalMetrics, SweepManifest } from '../../track/sweep-manifest.ts';
import { cancelKey, sweepKey } from './connection.ts';

export interface TrialJobData {
  sweepId: string;
  trialName: string;
  config: Experiment;
  configFile: string;
  parentRunId?: string;
  quiet: boolean;
}

/** Where the trial runs now (or ran last): written by the worker when it starts the trial's process. */
export interface TrialJobProgress {
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

export interface TrialJobResult {
  status: 'finished' | 'pruned';
  metrics: FinalMetrics | null;
  epochsDone: number;
  runId: string;
  runDir: string;
  host: string;
  summary: Pick<RunSummary, 'epochs' | 'epochsDone' | 'wallSeconds'>;
}

/** The job id of a trial: its fingerprint (the hash of its config without tracking). */
export const trialJobId = (trial: Trial): string => trialConfigHash(trial.config);

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
  await redis.set(sweepKey(manifest.sweepId), JSON.stringify(manifest));
  // Enqueued again after `sweep cancel`: the sweep goes on; its failed and cancelled trials run again (a
  // cancelled one from its checkpoint), like a local sweep run again.
  await redis.del(cancelKey(manifest.sweepId));
  const before = await Promise.all(
    trials.map(async (trial) => {
      const job = await queue.getJob(trialJobId(trial));
      if (job && (await job.getState()) === 'failed') await job.retry('failed');
      return job !== undefined;
    }),
  );
  await queue.addBulk(
    trials.map((trial) => ({
      name: trial.name,
      data: { ...job, sweepId: manifest.sweepId, trialName: trial.name, config: trial.config },
      opts: { jobId: trialJobId(trial), attempts: retries + 1, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: false, removeOnFail: false },
    })),
  );
  return before.filter((known) => !known).length;
}
