// Starts one trial in its own Node process (src/sweep/worker.ts over tsx) and collects its report.
import { fork } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { FromWorker, StartTrial, WorkerMessage } from './protocol.ts';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
/** tsx's loader by absolute URL: the worker needs it wherever the sweep was started from. */
const TSX = import.meta.resolve('tsx');

export interface TrialProcess {
  pid: number | undefined;
  /** The worker's report; a worker that dies without one gives a TrialError saying how it ended. */
  result: Promise<FromWorker>;
  /** Asks the trial to stop after its current step, with a checkpoint. */
  stop(): void;
  /** Ends the worker at once (SIGKILL). */
  kill(): void;
}

const TAIL_LINES = 20;

/**
 * TensorFlow's native start-up notes (absl INFO lines about oneDNN and CPU features), which every trial
 * process prints once and TF_CPP_MIN_LOG_LEVEL does not silence; its warnings and errors pass.
 */
const STARTUP_NOISE = [
  /^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$/,
  /^I\d{4} \d\d:\d\d:[\d.]+ +\d+ \S+\.cc:\d+\] /,
  /^To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags\.$/,
];

/**
 * The sweep's early-stopping decision on an evaluation of the trial: true stops it there (pruned). A queued
 * sweep's worker decides against the rung data in Redis (a promise); one that fails lets the trial go on.
 */
export type OnEvaluated = (epoch: number, values: Record<string, number>) => boolean | Promise<boolean>;

export function startTrialProcess(
  message: StartTrial,
  onLine: (line: string) => void,
  env: NodeJS.ProcessEnv = process.env,
  onEvaluated?: OnEvaluated,
): TrialProcess {
  const child = fork(WORKER, [], {
    execArgv: ['--import', TSX],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env,
  });
  const tail: string[] = [];
  let linesDone = 0;
  let streamsOpen = 2;
  let closeStreams: () => void = () => {};
  const streamsClosed = new Promise<void>((resolve) => (closeStreams = resolve));
  for (const stream of [child.stdout!, child.stderr!]) {
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (STARTUP_NOISE.some((pattern) => pattern.test(line))) return;
      linesDone += 1;
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      onLine(line);
    });
    lines.on('close', () => {
      streamsOpen -= 1;
      if (streamsOpen === 0) closeStreams();
    });
  }

  let report: FromWorker | undefined;
  child.on('message', (reply: WorkerMessage) => {
    if (reply.type !== 'evaluated') return void (report = reply);
    const answer = (prune: boolean) => {
      if (child.connected) child.send({ type: 'prune', epoch: reply.epoch, prune });
    };
    void Promise.resolve()
      .then(() => onEvaluated?.(reply.epoch, reply.values) ?? false)
      .then(answer, (error: unknown) => {
        onLine(
          `the sweep could not decide on the evaluation of epoch ${reply.epoch} (${error instanceof Error ? error.message : String(error)}): the trial goes on`,
        );
        answer(false);
      });
  });
  const result = new Promise<FromWorker>((resolve) => {
    let spawnError: Error | undefined;
    child.once('error', (error) => {
      spawnError = error;
    });
    child.once('exit', (code, signal) => {
      // Let the last lines of output through before the result, so the log reads in order.
      void Promise.race([streamsClosed, new Promise((r) => setTimeout(r, 1000))]).then(() => {
        if (report) return resolve(report);
        const how = spawnError ? `could not start: ${spawnError.message}` : signal ? `was killed by ${signal}` : `exited with code ${code}`;
        const last = tail.filter((line) => line.trim() !== '').slice(-5);
        resolve({
          type: 'error',
          message: `the trial's worker process ${how} without reporting a result${last.length && linesDone ? `; its last output:\n    ${last.join('\n    ')}` : ''}`,
          userError: false,
        });
      });
    });
  });
  child.send(message);
  return {
    pid: child.pid,
    result,
    stop: () => {
      if (child.connected) child.send({ type: 'stop' });
      else if (child.exitCode === null) child.kill('SIGTERM');
    },
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
