import type { Experiment } from '../config/experiment.generated.ts';
import { UserError } from '../errors.ts';
import { loadExperiment } from '../config/load-experiment.ts';
import { createProgress } from '../train/progress.ts';
import { prepareResume, type ResumePoint } from '../train/resume.ts';
import { runExperiment } from '../train/run-experiment.ts';
import type { SweepCommandOptions } from './sweep.ts';

/** Trains one experiment (--resume <run-dir>: goes on with that run); a config with a sweep section runs its trials. */
export async function runCommand(file: string, overrides: string[], options: { set: string[]; quiet?: boolean } & SweepCommandOptions): Promise<void> {
  const loaded = loadExperiment(file, [...options.set, ...overrides]);
  // A config with a sweep section runs its trials, each in its own process (src/cli/sweep.ts).
  if (options.queue !== undefined && !loaded.config.sweep) throw new UserError(`--queue: ${file} has no sweep section; --queue enqueues a sweep's trials`);
  if (loaded.config.sweep) return (await import('./sweep.ts')).sweepCommand(loaded, file, options);
  const resume = options.resume === undefined ? undefined : prepareResume(options.resume, loaded.config);
  return trainCommand(loaded.config, resume?.configFile ?? file, options.quiet ?? false, resume);
}

/** Trains, or resumes, one run; Ctrl-C stops after the current step with a checkpoint, a second Ctrl-C exits at once. */
export async function trainCommand(config: Experiment, configFile: string, quiet: boolean, resume?: ResumePoint): Promise<void> {
  const progress = createProgress({ quiet });
  let stopRequested = false;
  const onInterrupt = () => {
    if (stopRequested) process.exit(130);
    stopRequested = true;
    progress.log('stopping after this step (Ctrl-C again to quit at once)...');
  };
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);
  try {
    const { runDir, summary } = await runExperiment(config, { configFile, progress, shouldStop: () => stopRequested, resume });
    const at =
      summary.position && summary.position.stepInEpoch < summary.position.stepsPerEpoch
        ? ` and step ${summary.position.stepInEpoch}/${summary.position.stepsPerEpoch} of epoch ${summary.position.epoch}`
        : '';
    progress.log(`${summary.status}: ${summary.epochsDone}/${summary.epochs} epochs${at} in ${summary.wallSeconds.toFixed(1)} s; run directory ${runDir}`);
    if (summary.status === 'stopped') {
      progress.log(`resume it with: dcgan-run resume ${runDir}`);
      process.exitCode = 130;
    }
    // A run that failed without an exception (it diverged): its reason, even under --quiet, and exit 1.
    if (summary.status === 'failed') {
      process.stderr.write(`${summary.error}\n`);
      process.exitCode = 1;
    }
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
  }
}
