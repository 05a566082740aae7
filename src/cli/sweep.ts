import type { LoadedExperiment } from '../config/load-experiment.ts';
import { SweepRunner } from '../sweep/runner.ts';
import type { QueueSweepOptions } from '../sweep/queue/coordinator.ts';

export interface SweepCommandOptions {
  quiet?: boolean;
  failFast?: boolean;
  resume?: string;
  new?: boolean;
  /** redis://host:port[/db]: enqueue the trials for `dcgan-run worker`s instead of running them here. */
  queue?: string;
}

/**
 * Runs the sweep of a loaded experiment. Exit code 0 when every trial finished, 1 when one failed, 130 when
 * interrupted; a changed definition on --resume is a UserError (2). Ctrl-C (or SIGTERM) stops every trial after
 * its step with a checkpoint, a second one kills them at once, a third exits without waiting.
 */
export async function sweepCommand(loaded: LoadedExperiment, file: string, options: SweepCommandOptions): Promise<void> {
  const sweepOptions = {
    configFile: file,
    failFast: options.failFast ?? false,
    resume: options.resume,
    fresh: options.new ?? false,
    quiet: options.quiet ?? false,
  };
  if (options.queue !== undefined) return queueSweepCommand(loaded, { ...sweepOptions, queueUrl: options.queue });
  const runner = new SweepRunner(loaded, sweepOptions);
  let interrupts = 0;
  const onInterrupt = () => {
    interrupts += 1;
    if (interrupts === 1) runner.stop('interrupt');
    else if (interrupts === 2) runner.kill();
    else process.exit(130);
  };
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);
  try {
    const { exitCode } = await runner.run();
    process.exitCode = exitCode;
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
  }
}

/** --queue: enqueues the trials and follows them; Ctrl-C stops following (the workers' trials go on), a second exits. */
async function queueSweepCommand(loaded: LoadedExperiment, options: QueueSweepOptions): Promise<void> {
  const { QueueSweep } = await import('../sweep/queue/coordinator.ts');
  const sweep = new QueueSweep(loaded, options);
  let interrupts = 0;
  const onInterrupt = () => {
    interrupts += 1;
    if (interrupts === 1) sweep.stop();
    else process.exit(130);
  };
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);
  try {
    process.exitCode = (await sweep.run()).exitCode;
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
  }
}

/** `dcgan-run worker --queue ...`: runs trials from the queue until Ctrl-C (running trials stop with a checkpoint and go back to the queue). */
export async function workerCommand(options: { queue: string; concurrency: number; lockSeconds: number }): Promise<void> {
  const { QueueWorker } = await import('../sweep/queue/worker.ts');
  const worker = new QueueWorker({
    url: options.queue,
    concurrency: options.concurrency,
    lockSeconds: options.lockSeconds,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  let interrupts = 0;
  const onInterrupt = () => {
    interrupts += 1;
    if (interrupts === 1) void worker.stop();
    else process.exit(130);
  };
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);
  await worker.run();
}

export async function sweepStatusCommand(sweepId: string, options: { queue: string }): Promise<void> {
  const { sweepStatus } = await import('../sweep/queue/status.ts');
  process.stdout.write(`${await sweepStatus(sweepId, options.queue)}\n`);
}

export async function sweepCancelCommand(sweepId: string, options: { queue: string }): Promise<void> {
  const { cancelSweep } = await import('../sweep/queue/cancel.ts');
  const { removed, running } = await cancelSweep(sweepId, options.queue);
  process.stdout.write(
    `sweep ${sweepId} cancelled: ${removed} queued trial(s) removed, ${running} running trial(s) stop after their step (with a checkpoint)\n`,
  );
}
