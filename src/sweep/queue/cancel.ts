// `dcgan-run sweep cancel <sweep-id> --queue ...`: no more trials of that sweep start (its waiting jobs are
// removed) and the workers stop its running ones after their step, with a checkpoint; finished trials stay.
import { cancelKey, connect, openQueue } from './connection.ts';
import { storedManifest } from './state.ts';

export async function cancelSweep(sweepId: string, url: string): Promise<{ removed: number; running: number }> {
  const redis = connect(url);
  const queue = openQueue(redis);
  try {
    const manifest = await storedManifest(redis, sweepId);
    await redis.set(cancelKey(sweepId), new Date().toISOString());
    let removed = 0;
    let running = 0;
    for (const record of manifest.trials) {
      const job = await queue.getJob(record.configHash);
      const state = job ? await job.getState() : 'missing';
      if (state === 'active') running += 1;
      else if (job && ['waiting', 'delayed', 'prioritized', 'paused'].includes(state)) {
        await job.remove();
        removed += 1;
      }
    }
    return { removed, running };
  } finally {
    await queue.close().catch(() => {});
    await redis.quit().catch(() => {});
  }
}
