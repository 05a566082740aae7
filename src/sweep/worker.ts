// A sweep trial's process: `node --import tsx src/sweep/worker.ts`, forked by the sweep with an IPC channel.
// It gets one StartTrial message, trains (each process has its own TensorFlow.js backend), reports a
// TrialDone or TrialError back and exits. Each evaluation is reported (TrialEvaluated) and the trial waits
// for the sweep's early-stopping decision, which can stop it there as pruned. SIGINT, SIGTERM, a StopTrial message or the loss of the sweep
// process (IPC disconnect) stop the run after the current step, with a checkpoint.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.ts';
import { readMetrics } from '../track/run-dir.ts';
import { createProgress } from '../train/progress.ts';
import { prepareResume } from '../train/resume.ts';
import { runExperiment } from '../train/run-experiment.ts';
import type { FinalMetrics } from '../track/sweep-manifest.ts';
import type { FromWorker, StartTrial, ToWorker, WorkerMessage } from './protocol.ts';

// Output goes to pipes read by the sweep; if the sweep was killed, writing must not crash the trial.
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});

if (!process.send) {
  process.stderr.write('src/sweep/worker.ts runs the trials of a sweep and is started by `dcgan-run run <sweep.yaml>`, not by hand\n');
  process.exit(2);
}

let stopRequested = false;
const requestStop = () => {
  stopRequested = true;
};
process.on('SIGINT', requestStop);
process.on('SIGTERM', requestStop);
process.on('disconnect', requestStop);

/** Evaluations waiting for the sweep's decision, by epoch; without the sweep there is none to wait for. */
const decisions = new Map<number, (prune: boolean) => void>();
process.on('disconnect', () => {
  for (const decide of decisions.values()) decide(false);
  decisions.clear();
});
let pruned = false;

function askWhetherToPrune(epoch: number, values: Record<string, number>): Promise<boolean> {
  if (!process.connected) return Promise.resolve(false);
  return new Promise((resolve) => {
    decisions.set(epoch, (prune) => {
      pruned ||= prune;
      resolve(prune);
    });
    void send({ type: 'evaluated', epoch, values });
  });
}

const send = (message: WorkerMessage) =>
  new Promise<void>((resolve) => {
    if (!process.connected) return resolve();
    process.send!(message, undefined, {}, () => resolve());
  });

/** The last epoch record of a run's metrics.jsonl. */
function finalMetrics(runDir: string): FinalMetrics | null {
  if (!existsSync(join(runDir, 'metrics.jsonl'))) return null;
  const last = readMetrics(runDir).findLast((m) => m.type === 'epoch');
  return last ? { epoch: last.epoch, lossD: last.lossD, lossG: last.lossG, dReal: last.dReal, dFake: last.dFake } : null;
}

async function runTrial(message: StartTrial): Promise<FromWorker> {
  const runDir = message.resumeRunDir ?? join(message.config.tracking.runsDir, message.config.name, message.runId);
  try {
    const result = await runExperiment(message.config, {
      configFile: message.configFile,
      progress: createProgress({ quiet: message.quiet }),
      shouldStop: () => stopRequested,
      onEvaluated: askWhetherToPrune,
      runId: message.runId,
      parentRunId: message.parentRunId,
      resume: message.resumeRunDir === undefined ? undefined : prepareResume(message.resumeRunDir, message.config),
    });
    return { type: 'done', status: result.summary.status, runDir: result.runDir, summary: result.summary, metrics: finalMetrics(result.runDir), pruned };
  } catch (error) {
    const userError = error instanceof UserError;
    const text = error instanceof Error ? error.message : String(error);
    if (!userError) process.stderr.write(`${error instanceof Error ? (error.stack ?? text) : text}\n`);
    return {
      type: 'error',
      message: text,
      userError,
      stack: error instanceof Error ? error.stack : undefined,
      runDir: existsSync(runDir) ? runDir : undefined,
    };
  }
}

process.once('message', (message: ToWorker) => {
  if (message.type !== 'start') return;
  process.on('message', (next: ToWorker) => {
    if (next.type === 'stop') requestStop();
    if (next.type === 'prune') {
      decisions.get(next.epoch)?.(next.prune);
      decisions.delete(next.epoch);
    }
  });
  void runTrial(message).then(async (reply) => {
    await send(reply);
    process.exit(0);
  });
});
