import type { LoadedExperiment } from '../config/load-experiment.ts';
import { SweepRunner } from '../sweep/runner.ts';

export interface SweepCommandOptions {
  quiet?: boolean;
  failFast?: boolean;
  resume?: string;
  new?: boolean;
}

/**
 * Runs the sweep of a loaded experiment. Exit code 0 when every trial finished, 1 when one failed, 130 when
 * interrupted; a changed definition on --resume is a UserError (2). Ctrl-C (or SIGTERM) stops every trial after
 * its step with a checkpoint, a second one kills them at once, a third exits without waiting.
 */
export async function sweepCommand(loaded: LoadedExperiment, file: string, options: SweepCommandOptions): Promise<void> {
  const runner = new SweepRunner(loaded, {
    configFile: file,
    failFast: options.failFast ?? false,
    resume: options.resume,
    fresh: options.new ?? false,
    quiet: options.quiet ?? false,
  });
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
