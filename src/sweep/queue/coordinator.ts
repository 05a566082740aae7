// `dcgan-run <sweep.yaml> --queue redis://...`: enqueues the sweep's trials and follows them until each has
// ended, keeping the local sweep directory's manifest as a cache of the queue's state, then writes and prints
// the summary. The trials run on the workers (`dcgan-run worker`); stopping this process leaves them running.
import type { LoadedExperiment } from '../../config/load-experiment.ts';
import { expandSweep } from '../../config/sweep-expand.ts';
import { UserError } from '../../errors.ts';
import { mlflowTarget } from '../../track/mlflow-connect.ts';
import { ParentRun } from '../mlflow-parent.ts';
import { formatDuration, openSweepDirectory, writeSummaryFiles, type SweepOptions, type SweepOutcome } from '../runner.ts';
import { statusCounts, summaryText, sweepComplete } from '../summary.ts';
import { connect, openQueue } from './connection.ts';
import { enqueueTrials } from './jobs.ts';
import { readSweepState, settled } from './state.ts';

export interface QueueSweepOptions extends SweepOptions {
  queueUrl: string;
  /** Seconds between two looks at the queue. */
  pollEvery?: number;
}

/** What --queue cannot do yet: the adaptive search decides in the sweep process, between trials it runs itself. */
export function refuseAdaptive(loaded: LoadedExperiment): void {
  const sweep = loaded.config.sweep!;
  const keys = [...(sweep.strategy === 'tpe' ? ['sweep.strategy: tpe'] : []), ...(sweep.earlyStop ? ['sweep.earlyStop'] : [])];
  if (keys.length > 0)
    throw new UserError(
      `--queue runs grid and random sweeps only: ${keys.join(' and ')} decide in the sweep process; run this sweep without --queue, or remove ${keys.join(' and ')}`,
    );
}

export class QueueSweep {
  private following = true;

  constructor(
    private readonly loaded: LoadedExperiment,
    private readonly options: QueueSweepOptions,
  ) {
    refuseAdaptive(loaded);
  }

  /** Stops following (Ctrl-C): the workers' trials go on; `sweep status` and `sweep cancel` reach them. */
  stop(): void {
    this.following = false;
  }

  async run(): Promise<SweepOutcome> {
    const { config, composed } = this.loaded;
    const warn = this.options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    const log = this.options.quiet ? () => {} : warn;
    const print = this.options.print ?? ((text: string) => process.stdout.write(text));
    const startedAt = Date.now();
    const trials = expandSweep(config, composed.origins);
    const directory = openSweepDirectory(config, trials, this.options);
    directory.claim();
    const { manifest } = directory;
    const redis = connect(this.options.queueUrl, (error) => warn(`queue: ${error.message} (retrying)`));
    const queue = openQueue(redis);
    try {
      const target = mlflowTarget(config, this.options.env);
      const parent = target ? await ParentRun.open(config, directory, target, { log, warn }, this.options.env) : undefined;
      const added = await enqueueTrials(
        queue,
        redis,
        manifest,
        trials,
        { configFile: manifest.configFile, parentRunId: parent?.runId, quiet: this.options.quiet ?? false },
        config.sweep!.retries,
      );
      log(
        `sweep ${directory.id}: ${trials.length} trials on ${this.options.queueUrl} (${added} enqueued now, ${trials.length - added} already there); ${directory.path}`,
      );
      log(`follow it from anywhere: dcgan-run sweep status ${directory.id} --queue ${this.options.queueUrl}`);
      let done = false;
      const shown = new Map<string, string>();
      let lastLine = '';
      for (;;) {
        const { trials: states } = await readSweepState(queue, redis, manifest);
        for (const { record, state, where } of states) {
          Object.assign(directory.trial(record.name), record);
          const line = `${state}${where ? ` on ${where}` : ''}${record.error && state !== 'running' ? `: ${record.error}` : ''}`;
          if (shown.get(record.name) !== line) log(`[${record.name}] ${line}`);
          shown.set(record.name, line);
        }
        directory.save();
        const tally = new Map<string, number>();
        for (const { state } of states) tally.set(state, (tally.get(state) ?? 0) + 1);
        const progress = `sweep: ${[...tally].map(([state, n]) => `${n} ${state}`).join(', ')}`;
        if (progress !== lastLine) log(progress);
        lastLine = progress;
        done = settled(states);
        if (done || !this.following) break;
        await new Promise((r) => setTimeout(r, (this.options.pollEvery ?? 1) * 1000));
      }
      const counts = statusCounts(manifest);
      manifest.status = !done ? 'running' : counts.failed > 0 ? 'failed' : sweepComplete(manifest) ? 'finished' : 'stopped';
      manifest.owner = null;
      directory.save();
      writeSummaryFiles(directory);
      if (parent && done) await parent.finish(directory, manifest.status === 'finished' ? 'FINISHED' : manifest.status === 'failed' ? 'FAILED' : 'KILLED');
      print(`\n${summaryText(manifest)}`);
      if (!done) {
        log(`stopped following; the trials go on on the workers: dcgan-run sweep status ${directory.id} --queue ${this.options.queueUrl} (or sweep cancel)`);
        return { exitCode: 130, directory };
      }
      log(
        `sweep ${manifest.status} in ${formatDuration((Date.now() - startedAt) / 1000)}: ${counts.finished} finished, ${counts.failed} failed, ${counts.stopped} cancelled; summary in ${directory.file('summary.md')}`,
      );
      return { exitCode: manifest.status === 'finished' ? 0 : 1, directory };
    } finally {
      await queue.close().catch(() => {});
      await redis.quit().catch(() => {});
    }
  }
}
