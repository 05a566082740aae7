// Debian's redis-server for the queue tests: on a free port of 127.0.0.1, with append-only persistence in a
// temporary folder (appendfsync always: what was acknowledged is on disk), restartable on the same port and data.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPort } from './closed-port.ts';

export const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';

/** Why the queue tests cannot run here, or false. */
export function redisMissing(): string | false {
  const probe = spawnSync(REDIS_SERVER, ['--version'], { encoding: 'utf8' });
  return probe.status === 0 ? false : `no ${REDIS_SERVER} here (apt-get install redis-server)`;
}

export interface RedisTestServer {
  url: string;
  port: number;
  /** Stops it (SIGTERM: Redis writes and syncs its append-only file) and starts it again on the same port and data. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const listening = async (port: number, timeoutMs = 10_000) => {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (up) return;
  }
  throw new Error(`redis-server did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
};

export async function startRedisServer(): Promise<RedisTestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'dcgan-run-redis-'));
  const port = await closedPort();
  let child: ChildProcess;
  const start = async () => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir];
    child = spawn(REDIS_SERVER, args, { stdio: 'ignore' });
    await listening(port);
  };
  const halt = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    restart: async () => {
      await halt();
      await start();
    },
    stop: async () => {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The jobs of dcgan-run's queue on `url` by state. */
export async function queueJobCounts(url: string): Promise<Record<string, number>> {
  const { Queue } = await import('bullmq');
  const { Redis } = await import('ioredis');
  const { QUEUE_NAME } = await import('../../src/sweep/queue/connection.ts');
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUE_NAME, { connection });
  try {
    const { waiting, active, completed, failed, delayed } = await queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed');
    return { waiting, active, completed, failed, delayed };
  } finally {
    await queue.close();
    await connection.quit();
  }
}

/** Empties the Redis server at `url` (each queue test starts from an empty queue). */
export async function flushRedis(url: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url);
  await client.flushall();
  await client.quit();
}
