// A run's state as commands that read a run should see it: summary.json's status, except that a run it says
// is running whose owner is gone is 'crashed'. Derived on every read, never written back.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.ts';
import { readRunSummary } from './run-dir.ts';
import { ownerGone, readHeartbeat } from './run-owner.ts';
import type { RunStatus, RunSummary } from './run-types.ts';

export type ShownStatus = RunStatus | 'crashed';

export interface RunState {
  status: ShownStatus;
  summary: RunSummary;
  /** Why a crashed run is taken for one: who owned it and when it was last heard of. */
  crash?: string;
  /** The last sign of life (ms): the heartbeat or the last summary write, whichever is later. */
  lastSeen: number;
}

export function readRunState(runDir: string, now = Date.now()): RunState {
  const file = join(runDir, 'summary.json');
  if (!existsSync(file)) throw new UserError(`${runDir}: not a run directory (no summary.json)`);
  const summary = readRunSummary(runDir);
  const heartbeat = readHeartbeat(runDir);
  const lastSeen = Math.max(statSync(file).mtimeMs, heartbeat?.getTime() ?? 0);
  const crash = summary.status === 'running' ? ownerGone(summary.owner, heartbeat, now) : undefined;
  return crash ? { status: 'crashed', summary, crash: `crashed: ${crash}`, lastSeen } : { status: summary.status, summary, lastSeen };
}

/**
 * A line for commands that use a run's checkpoints (sample, eval) when the run crashed or still trains;
 * nothing for a run that ended, or a folder with checkpoints but no summary.
 */
export function statusNote(runDir: string): string | undefined {
  if (!existsSync(join(runDir, 'summary.json'))) return undefined;
  const state = readRunState(runDir);
  const { epochsDone, epochs } = state.summary;
  if (state.status === 'crashed') return `${runDir}: ${state.crash}; using what it wrote before (${epochsDone}/${epochs} epochs)`;
  if (state.status === 'running') return `${runDir}: still running (${epochsDone}/${epochs} epochs so far)`;
  return undefined;
}
