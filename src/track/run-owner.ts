// Who is training a run, and whether it still is: the owner (pid, host, start) that summary.json records and
// the heartbeat file the owner rewrites while it lives. A kill -9, an OOM kill or a power cut leaves
// summary.json saying "running"; these tell such a run from a live one.
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.ts';
import type { RunOwner } from './run-types.ts';

/**
 * A separate file rather than a field of summary.json: the trainer rewrites summary.json from its own copy
 * (a timer's field would be lost or race it), and sync re-uploads summary.json whenever it changes.
 */
export const HEARTBEAT_FILE = 'heartbeat';
export const HEARTBEAT_MS = 20_000;
/** A run on another host is crashed after this long without a heartbeat: several missed beats, so a busy step is not taken for a crash. */
export const STALE_MS = 2 * 60_000;

/** The start of process `pid` in clock ticks after boot, or undefined off Linux or when it has no /proc entry. */
function processStart(pid: number | 'self'): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces; starttime is field 22.
    const value = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

let self: RunOwner | undefined;

/** This process, as the owner of the runs it trains. */
export function currentOwner(): RunOwner {
  self ??= {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date(Date.now() - process.uptime() * 1000).toISOString(),
    procStart: processStart('self'),
  };
  return self;
}

/**
 * Rewrites <run-dir>/heartbeat every HEARTBEAT_MS until the returned function is called. The timer is unref'd
 * (it never keeps the process alive) and a write is one small atomic file; a failed beat (a full disk) is
 * skipped: the training's own writes report such errors. `run`: a RunDirectory or a run directory's path.
 */
export function startHeartbeat(run: { readonly path: string } | string): () => void {
  const file = join(typeof run === 'string' ? run : run.path, HEARTBEAT_FILE);
  const beat = () => {
    try {
      writeFileAtomic(file, `${new Date().toISOString()}\n`);
    } catch {
      // The next beat tries again.
    }
  };
  beat();
  const timer = setInterval(beat, HEARTBEAT_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** The last heartbeat of a run, or undefined when it has none (a run from before heartbeats). */
export function readHeartbeat(runDir: string): Date | undefined {
  const file = join(runDir, HEARTBEAT_FILE);
  if (!existsSync(file)) return undefined;
  const time = Date.parse(readFileSync(file, 'utf8').trim());
  return Number.isNaN(time) ? undefined : new Date(time);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // Alive, owned by another user.
  }
}

/**
 * Why the owner of a run that says "running" is gone, or undefined when it may still be training. On its own
 * host the pid decides (with the start time against a reused pid; the heartbeat where there is no /proc); on
 * another host only the heartbeat can: older than STALE_MS is gone. No owner or heartbeat at all: cannot tell.
 */
export function ownerGone(owner: RunOwner | undefined, heartbeat: Date | undefined, now = Date.now()): string | undefined {
  if (!owner) return undefined;
  const who = `the process (pid ${owner.pid} on host ${owner.host})`;
  const last = heartbeat ? `; last heartbeat at ${heartbeat.toISOString()}` : '';
  const stale = heartbeat !== undefined && now - heartbeat.getTime() > STALE_MS;
  if (owner.host === hostname()) {
    if (!isAlive(owner.pid)) return `${who} ended without finishing${last}`;
    const start = owner.procStart === undefined ? undefined : processStart(owner.pid);
    if (start !== undefined && start !== owner.procStart) return `${who} ended without finishing (pid ${owner.pid} is now another process)${last}`;
    if (start === undefined && stale) return `${who} has not written a heartbeat for over ${STALE_MS / 60_000} minutes${last}`;
    return undefined;
  }
  return stale ? `${who} has not written a heartbeat for over ${STALE_MS / 60_000} minutes${last}` : undefined;
}
