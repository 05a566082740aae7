import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface MlflowTestServer {
  /** e.g. http://127.0.0.1:41234 */
  uri: string;
  /** True when MLFLOW_TEST_URI points at a server we did not start (stop/restart are then unavailable). */
  external: boolean;
  /** How long the last (re)start took until /health answered. */
  startupMs: number;
  /** Backend store and artifacts; undefined for an external server. */
  dataDir: string | undefined;
  /** Stops the server and deletes its data directory. */
  stop(): Promise<void>;
  /** Stops and starts again on the same port with the same store and artifacts. */
  restart(): Promise<void>;
}

export interface StartOptions {
  /** Until /health answers (default 90 s). */
  timeoutMs?: number;
  /** Default: $MLFLOW_PYTHON or python3. */
  python?: string;
  /** Start a server of its own even when MLFLOW_TEST_URI is set: for tests that stop or restart it. */
  own?: boolean;
}

const OUTPUT_TAIL_BYTES = 16_384;

/** Starts `mlflow server` on a free localhost port with a throwaway SQLite store, or uses MLFLOW_TEST_URI. */
export async function startMlflowServer(options: StartOptions = {}): Promise<MlflowTestServer> {
  const timeoutMs = options.timeoutMs ?? 90_000;
  const external = options.own ? undefined : process.env.MLFLOW_TEST_URI;
  if (external) {
    const uri = external.replace(/\/+$/, '');
    const t0 = Date.now();
    await waitForHealth(uri, timeoutMs, () => undefined);
    return {
      uri,
      external: true,
      startupMs: Date.now() - t0,
      dataDir: undefined,
      stop: async () => {},
      restart: async () => {
        throw new Error('restart() is unavailable: MLFLOW_TEST_URI points at a server this process did not start');
      },
    };
  }

  const python = options.python ?? process.env.MLFLOW_PYTHON ?? 'python3';
  const dataDir = await mkdtemp(join(tmpdir(), 'mlflow-test-'));
  const port = await freePort();
  const uri = `http://127.0.0.1:${port}`;
  let proc: ServerProcess | undefined;

  const launch = async (): Promise<number> => {
    const t0 = Date.now();
    proc = spawnServer(python, port, dataDir);
    const current = proc;
    try {
      await waitForHealth(uri, timeoutMs, () => current.exitDescription());
    } catch (e) {
      await current.kill();
      throw new Error(`${(e as Error).message}\n--- mlflow server output (tail) ---\n${current.tail()}`);
    }
    return Date.now() - t0;
  };

  const server: MlflowTestServer = {
    uri,
    external: false,
    startupMs: 0,
    dataDir,
    stop: async () => {
      await proc?.kill();
      await waitForPortClosed(port);
      await rm(dataDir, { recursive: true, force: true });
    },
    restart: async () => {
      await proc?.kill();
      await waitForPortClosed(port);
      server.startupMs = await launch();
    },
  };
  try {
    server.startupMs = await launch();
  } catch (e) {
    await rm(dataDir, { recursive: true, force: true });
    throw e;
  }
  return server;
}

interface ServerProcess {
  tail(): string;
  /** Set once the process has exited: why, for error messages. */
  exitDescription(): string | undefined;
  kill(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  // Last resort when a test run dies without calling stop(): don't leave servers behind.
  for (const child of live) killGroup(child, 'SIGKILL');
});

function spawnServer(python: string, port: number, dataDir: string): ServerProcess {
  const args = [
    '-m',
    'mlflow',
    'server',
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    '--workers',
    '1',
    '--backend-store-uri',
    `sqlite:///${join(dataDir, 'mlflow.db')}`,
    '--serve-artifacts',
    '--artifacts-destination',
    join(dataDir, 'artifacts'),
  ];
  const child = spawn(python, args, {
    cwd: dataDir,
    // Own process group, so stop() reaches uvicorn and any helper processes too.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      // The job runner (huey) is only for GenAI features; it adds processes and start-up time.
      MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false',
      PYTHONUNBUFFERED: '1',
    },
  });
  live.add(child);
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);

  let exit: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = signal ? `mlflow server was killed by ${signal}` : `mlflow server exited with code ${code}`;
      live.delete(child);
      resolve();
    });
    child.once('error', (err) => {
      exit = `could not start '${python} -m mlflow server': ${err.message}`;
      live.delete(child);
      resolve();
    });
  });

  return {
    tail: () => output.trimEnd(),
    exitDescription: () => exit,
    kill: async () => {
      if (exit !== undefined) return;
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      // The group's other members may outlive the leader by a moment.
      killGroup(child, 'SIGKILL');
    },
  };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

async function waitForHealth(uri: string, timeoutMs: number, exited: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    const why = exited();
    if (why) throw new Error(`MLflow server at ${uri} did not come up: ${why}`);
    try {
      const res = await fetch(`${uri}/health`, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause;
      last = cause?.code ?? (e as Error).message;
    }
    if (Date.now() > deadline) {
      throw new Error(`MLflow server at ${uri} did not answer /health within ${timeoutMs} ms (last: ${last})`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForPortClosed(port: number, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const sock = createConnection({ host: '127.0.0.1', port });
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (!open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} still accepts connections ${timeoutMs} ms after stopping the MLflow server`);
}
