// The queue's connection: a redis:// URL (with an optional /db), one BullMQ queue for every sweep's trials, and
// the keys dcgan-run keeps beside it (each sweep's trial list, its cancel flag).
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { UserError } from '../../errors.ts';
import type { TrialJobData, TrialJobResult } from './jobs.ts';

export const QUEUE_NAME = 'dcgan-run-trials';
/** The sweep's stored manifest (its trials, as enqueued): `sweep status` reads it from any machine. */
export const sweepKey = (sweepId: string) => `dcgan-run:sweep:${sweepId}`;
/** Set by `sweep cancel`: workers stop that sweep's running trials. */
export const cancelKey = (sweepId: string) => `dcgan-run:sweep:${sweepId}:cancelled`;

/** Checks a --queue value: redis://[user:password@]host:port[/db] (rediss:// for TLS). */
export function checkQueueUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UserError(`--queue ${url}: not a URL; give redis://host:port[/db]`);
  }
  if (!['redis:', 'rediss:'].includes(parsed.protocol)) throw new UserError(`--queue ${url}: give a redis:// or rediss:// URL (redis://host:port[/db])`);
  if (parsed.pathname.length > 1 && !/^\/\d+$/.test(parsed.pathname)) throw new UserError(`--queue ${url}: the path names a database by number (/0, /1, ...)`);
  return url;
}

/**
 * A connection that waits through a Redis restart (commands queue until it is back) instead of failing: BullMQ's
 * workers need maxRetriesPerRequest null, and the coordinator and `sweep status` ride out an outage the same way.
 */
export function connect(url: string, onError: (error: Error) => void = () => {}): Redis {
  const redis = new Redis(checkQueueUrl(url), { maxRetriesPerRequest: null, lazyConnect: false });
  let reported = '';
  // ioredis reconnects by itself; an error is reported once until the next success.
  redis.on('error', (error: Error) => {
    if (error.message !== reported) onError(error);
    reported = error.message;
  });
  redis.on('ready', () => (reported = ''));
  return redis;
}

export function openQueue(redis: Redis): Queue<TrialJobData, TrialJobResult> {
  const queue = new Queue<TrialJobData, TrialJobResult>(QUEUE_NAME, { connection: redis });
  queue.on('error', () => {});
  return queue;
}
