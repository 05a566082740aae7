import { loadExperiment } from '../config/validate.ts';
import { createProgress } from '../train/progress.ts';
import { train } from '../train/trainer.ts';

/** Trains one experiment; Ctrl-C stops after the current step with a checkpoint, a second Ctrl-C exits at once. */
export async function runCommand(file: string, overrides: string[], options: { set: string[]; quiet?: boolean }): Promise<void> {
  const { config } = loadExperiment(file, [...options.set, ...overrides]);
  const progress = createProgress({ quiet: options.quiet ?? false });
  let stopRequested = false;
  const onInterrupt = () => {
    if (stopRequested) process.exit(130);
    stopRequested = true;
    progress.log('stopping after this step (Ctrl-C again to quit at once)...');
  };
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);
  try {
    const { runDir, summary } = await train(config, { configFile: file, progress, shouldStop: () => stopRequested });
    progress.log(`${summary.status}: ${summary.epochsDone}/${summary.epochs} epochs in ${summary.wallSeconds.toFixed(1)} s; run directory ${runDir}`);
    if (summary.status === 'stopped') process.exitCode = 130;
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
  }
}
