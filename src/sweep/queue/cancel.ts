// `dcgan-run sweep cancel <sweep-id> --queue ...` (and --fail-fast's cancel): no more trials of that sweep start
// (its waiting jobs are removed) and the workers stop its running ones after their step, with a checkpoint;
// finished trials stay.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { SweepManifest } from '../../track/sweep-manifest.ts';
import { cancelKey, connect, openQueue } from './connection.ts';
import { recordJobId, type TrialJobData, type TrialJobResult } from './jobs.ts';
import { CANCELLED, storedManifest } from './state.ts';

export async function cancelSweep(sweepId: string, url: string): Promise<{ removed: number; running: number }> {
  const redis = connect(url);
  const queue = openQueue(redis);
  try {
    return await cancelTrials(queue, redis, await storedManifest(redis, sweepId), CANCELLED);
  } finally {
    await queue.close().catch(() => {});
    await redis.quit().catch(() => {});
  }
}

/** Cancels the sweep of `manifest` with `reason` (which starts "cancelled by "): the workers read it and stop. */
export async function cancelTrials(
  queue: Queue<TrialJobData, TrialJobResult>,
  redis: Redis,
  manifest: SweepManifest,
  reason: string,
): Promise<{ removed: number; running: number }> {
  await redis.set(cancelKey(manifest.sweepId), reason);
  let removed = 0;
  let running = 0;
  for (const record of manifest.trials) {
    const job = await queue.getJob(recordJobId(record));
    const state = job ? await job.getState() : 'missing';
    if (state === 'active') running += 1;
    else if (job && ['waiting', 'delayed', 'prioritized', 'paused'].includes(state)) {
      await job.remove();
      removed += 1;
    }
  }
  return { removed, running };
}
