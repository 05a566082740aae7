// A queued sweep's early stopping (sweep.earlyStop: asha): the rung data of all its trials in one Redis key,
// shared by every worker. A worker decides on its trial's evaluation with src/sweep/search/'s logic on the data
// as it reads it, then writes the data back only if nobody changed it meanwhile (a compare-and-set in one Lua
// call); otherwise it reads again and decides again. So two workers reporting at once never decide on the same
// stale rung, and the decision that is written is the one returned. Decisions are kept by trial and epoch: a
// trial that reports an epoch again (resumed from a checkpoint, retried, or a reply lost to a Redis restart) gets
// the decision it got before. The key lives in Redis with the queue (append-only file: restarts keep it).
import type { Redis } from 'ioredis';
import type { Sweep } from '../../config/experiment.generated.ts';
import type { AshaDecision, Rungs } from '../search/asha.ts';
import { pruneDecision } from '../search/sweep-search.ts';

export const rungsKey = (sweepId: string) => `dcgan-run:sweep:${sweepId}:asha`;

export interface QueueDecision extends AshaDecision {
  /** The value it decided on (NaN is kept as null by JSON). */
  value: number | null;
  /** This decision's place among all the sweep's decisions, from 0: the order in which they were made. */
  order: number;
}

/** What the key holds. */
export interface QueueRungs {
  /** Each trial's values at the rungs it completed (as rungs.json of a local sweep). */
  rungs: Rungs;
  /** `<trial>@<epoch>` -> the decision made on that report. */
  decisions: Record<string, QueueDecision>;
}

/** Sets KEYS[1] to ARGV[2] if it still holds ARGV[1] ('' for no key); 1 when set. */
const COMPARE_AND_SET = `
local current = redis.call('GET', KEYS[1])
if (current == false and ARGV[1] == '') or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2])
  return 1
end
return 0`;

export async function readQueueRungs(redis: Redis, sweepId: string): Promise<QueueRungs> {
  const text = await redis.get(rungsKey(sweepId));
  return text ? (JSON.parse(text) as QueueRungs) : { rungs: {}, decisions: {} };
}

/**
 * The decision on `trial` reporting `value` at `epoch` against the sweep's shared rung data, recorded there
 * atomically (see above). `epochs`: the trial's train.epochs (no prune at the last one).
 */
export async function decideInQueue(
  redis: Redis,
  sweepId: string,
  trial: string,
  epoch: number,
  value: number,
  sweep: Pick<Sweep, 'objective' | 'earlyStop'>,
  epochs: number,
): Promise<QueueDecision> {
  const key = rungsKey(sweepId);
  for (;;) {
    const before = (await redis.get(key)) ?? '';
    const state: QueueRungs = before ? (JSON.parse(before) as QueueRungs) : { rungs: {}, decisions: {} };
    const id = `${trial}@${epoch}`;
    const known = state.decisions[id];
    if (known) return { ...known, value: known.value ?? NaN };
    const decision: QueueDecision = { ...pruneDecision(state.rungs, trial, epoch, value, sweep, epochs), value, order: Object.keys(state.decisions).length };
    state.decisions[id] = decision;
    if ((await redis.eval(COMPARE_AND_SET, 1, key, before, JSON.stringify(state))) === 1) return decision;
  }
}
