// `dcgan-run <sweep.yaml> --queue redis://...`: enqueues the sweep's trials and follows them until each has
// ended, keeping the local sweep directory's manifest as a cache of the queue's state, then writes and prints
// the summary. The trials run on the workers (`dcgan-run worker`); stopping this process leaves them running.
// tpe's trials are suggested here as earlier ones end: at most sweep.parallel of them queued or running at once,
// each suggested from the results in the queue (those queued or running as constant liars), and stored in the
// queue's copy of the manifest before it is enqueued, so a restarted coordinator goes on from the queue's state.
// With --fail-fast, the first failed trial cancels the rest (as `sweep cancel` does). With sweep.earlyStop.promote,
// whenever no job waits, the best pruned trial that the rung data in Redis (the workers' key) now ranks within
// its rung's top share (asha.ts's nextPromotion) is promoted: recorded in the queue's copy of the manifest (so a
// restarted coordinator does not promote it again), then enqueued as a job of its own that resumes its run.
import type { LoadedExperiment } from '../../config/load-experiment.ts';
import { expandSweep, makeTrial, type Trial } from '../../config/sweep-expand.ts';
import { mlflowTarget } from '../../track/mlflow-connect.ts';
import type { SweepDirectory } from '../../track/sweep-manifest.ts';
import { ParentRun } from '../mlflow-parent.ts';
import { formatDuration, openSweepDirectory, writeSummaryFiles, type SweepOptions, type SweepOutcome } from '../runner.ts';
import { nextPromotion } from '../search/asha.ts';
import { suggestTrial } from '../search/sweep-search.ts';
import { statusCounts, summaryText, sweepComplete } from '../summary.ts';
import { cancelTrials } from './cancel.ts';
import { connect, openQueue } from './connection.ts';
import { addTrialJobs, enqueueTrials, storeManifest, type TrialJobData } from './jobs.ts';
import { readQueueRungs } from './rungs.ts';
import { findStoredManifest, readSweepState, settled, type QueuedTrial } from './state.ts';

export interface QueueSweepOptions extends SweepOptions {
  queueUrl: string;
  /** Seconds between two looks at the queue. */
  pollEvery?: number;
}

/**
 * tpe: the trials suggested so far, from the queue's copy of the manifest (a coordinator restarted with the same
 * sweep directory goes on from there) and the local one (a trial suggested just before a crash may have reached
 * only this), by index; the queue's wins where both have one.
 */
async function adoptStoredTrials(directory: SweepDirectory, stored: Awaited<ReturnType<typeof findStoredManifest>>): Promise<void> {
  if (!stored) return;
  const local = directory.manifest.trials;
  const byIndex = new Map(local.map((record) => [record.index, record]));
  for (const record of stored.trials) byIndex.set(record.index, { ...record, status: 'pending' });
  directory.manifest.trials = [...byIndex.values()].sort((a, b) => a.index - b.index);
  directory.save();
}

/** sweep.earlyStop.promote: the promotions the queue's copy of the manifest records (a restarted coordinator's). */
function adoptPromotions(directory: SweepDirectory, stored: Awaited<ReturnType<typeof findStoredManifest>>): void {
  for (const record of stored?.trials ?? []) {
    const local = directory.manifest.trials.find((t) => t.name === record.name);
    if (local && (record.promoted?.length ?? 0) > (local.promoted?.length ?? 0))
      Object.assign(local, { promoted: record.promoted, pruned: null, runId: record.runId, runDir: record.runDir });
  }
  directory.save();
}

export class QueueSweep {
  private following = true;

  constructor(
    private readonly loaded: LoadedExperiment,
    private readonly options: QueueSweepOptions,
  ) {}

  /** Stops following (Ctrl-C): the workers' trials go on; `sweep status` and `sweep cancel` reach them. */
  stop(): void {
    this.following = false;
  }

  async run(): Promise<SweepOutcome> {
    const { config, composed } = this.loaded;
    const sweep = config.sweep!;
    const warn = this.options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    const log = this.options.quiet ? () => {} : warn;
    const print = this.options.print ?? ((text: string) => process.stdout.write(text));
    const startedAt = Date.now();
    const tpe = sweep.strategy === 'tpe';
    const directory = openSweepDirectory(config, expandSweep(config, composed.origins), this.options);
    directory.claim();
    const { manifest } = directory;
    const redis = connect(this.options.queueUrl, (error) => warn(`queue: ${error.message} (retrying)`));
    const queue = openQueue(redis);
    try {
      const stored = await findStoredManifest(redis, directory.id);
      if (tpe) await adoptStoredTrials(directory, stored);
      adoptPromotions(directory, stored);
      const trials: Trial[] = manifest.trials.map((record) => makeTrial(config, record.index, record.values, composed.origins));
      const target = mlflowTarget(config, this.options.env);
      const parent = target ? await ParentRun.open(config, directory, target, { log, warn }, this.options.env) : undefined;
      const job: Omit<TrialJobData, 'trialName' | 'config' | 'sweepId'> = {
        configFile: manifest.configFile,
        parentRunId: parent?.runId,
        quiet: this.options.quiet ?? false,
        ...(sweep.objective ? { search: { objective: sweep.objective, ...(sweep.earlyStop ? { earlyStop: sweep.earlyStop } : {}) } } : {}),
      };
      const added = await enqueueTrials(queue, redis, manifest, trials, job, sweep.retries);
      const planned = manifest.plannedTrials ?? manifest.trials.length;
      log(
        tpe
          ? `sweep ${directory.id}: ${planned} tpe trials on ${this.options.queueUrl}, suggested as earlier ones end, ${sweep.parallel} queued or running at most (${trials.length} suggested before, ${added} of them enqueued now); ${directory.path}`
          : `sweep ${directory.id}: ${trials.length} trials on ${this.options.queueUrl} (${added} enqueued now, ${trials.length - added} already there); ${directory.path}`,
      );
      log(`follow it from anywhere: dcgan-run sweep status ${directory.id} --queue ${this.options.queueUrl}`);
      let done = false;
      let failedFast: string | undefined;
      let cancelled: string | null = null;
      const shown = new Map<string, string>();
      let lastLine = '';
      for (;;) {
        let states: QueuedTrial[];
        ({ trials: states, cancelled } = await readSweepState(queue, redis, manifest));
        for (const { record, state, where } of states) {
          Object.assign(directory.trial(record.name), record);
          const line = `${state}${where ? ` on ${where}` : ''}${record.error && state !== 'running' ? `: ${record.error}` : ''}`;
          if (shown.get(record.name) !== line) log(`[${record.name}] ${line}`);
          shown.set(record.name, line);
        }
        directory.save();
        if (this.options.failFast && !failedFast && !cancelled) {
          const failed = states.find((t) => t.state === 'failed');
          if (failed) {
            failedFast = `cancelled by --fail-fast: trial ${failed.record.name} failed`;
            const { removed, running } = await cancelTrials(queue, redis, manifest, failedFast);
            warn(
              `--fail-fast: ${failed.record.name} failed; cancelling the sweep (${removed} queued trial(s) removed, ${running} running stop after their step)`,
            );
            continue;
          }
        }
        // sweep.earlyStop.promote: whenever no job waits, the best pruned trial the rungs now rank within the top share.
        if (sweep.earlyStop?.promote && !cancelled && this.following && !states.some((t) => t.state === 'queued')) {
          const { rungs } = await readQueueRungs(redis, directory.id);
          const stopped = states.flatMap(({ record, state }) =>
            state === 'pruned' && record.pruned ? [{ trial: record.name, rung: record.pruned.rung }] : [],
          );
          const chosen = nextPromotion(rungs, stopped, sweep.earlyStop.reductionFactor, sweep.objective!.mode);
          if (chosen) {
            const record = directory.trial(chosen.trial);
            const at = { rung: chosen.rung, epoch: record.pruned!.epoch, value: chosen.value };
            directory.update(chosen.trial, { status: 'pending', pruned: null, promoted: [...(record.promoted ?? []), at] });
            // Stored before it is enqueued: a coordinator restarted in between enqueues it (once), never promotes again.
            await storeManifest(redis, manifest);
            await addTrialJobs(queue, manifest, [makeTrial(config, record.index, record.values, composed.origins)], job, sweep.retries);
            log(`[${chosen.trial}] promoted at epoch ${at.epoch} (rung ${at.rung}): within the rung's top share now; enqueued to resume its run`);
            continue;
          }
        }
        // tpe: new suggestions while fewer than sweep.parallel trials wait or run (none after a cancel).
        let inFlight = states.filter((t) => ['queued', 'running'].includes(t.state)).length;
        while (tpe && !cancelled && this.following && manifest.trials.length < planned && inFlight < sweep.parallel) {
          const trial = suggestTrial(config, composed.origins, manifest.trials, manifest.trials.length, true);
          directory.addTrial(trial);
          await storeManifest(redis, manifest);
          await addTrialJobs(queue, manifest, [trial], job, sweep.retries);
          log(`[${trial.name}] suggested and enqueued (trial ${trial.index + 1} of ${planned})`);
          states.push({ record: directory.trial(trial.name), state: 'queued', where: null });
          inFlight += 1;
        }
        const tally = new Map<string, number>();
        for (const { state } of states) tally.set(state, (tally.get(state) ?? 0) + 1);
        const progress = `sweep: ${[...tally].map(([state, n]) => `${n} ${state}`).join(', ')}${tpe ? ` (${manifest.trials.length} of ${planned} suggested)` : ''}`;
        if (progress !== lastLine) log(progress);
        lastLine = progress;
        done = settled(states) && (!tpe || manifest.trials.length >= planned || cancelled !== null);
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
        log(
          `stopped following; the trials go on on the workers${tpe ? ' (no new tpe trials are suggested until this command runs again)' : ''}: dcgan-run sweep status ${directory.id} --queue ${this.options.queueUrl} (or sweep cancel)`,
        );
        return { exitCode: 130, directory };
      }
      log(
        `sweep ${manifest.status} in ${formatDuration((Date.now() - startedAt) / 1000)}: ${counts.finished} finished, ${counts.pruned > 0 ? `${counts.pruned} pruned, ` : ''}${counts.failed} failed, ${counts.stopped} cancelled; summary in ${directory.file('summary.md')}`,
      );
      return { exitCode: manifest.status === 'finished' ? 0 : 1, directory };
    } finally {
      await queue.close().catch(() => {});
      await redis.quit().catch(() => {});
    }
  }
}
