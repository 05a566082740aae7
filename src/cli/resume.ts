import { join } from 'node:path';
import { loadExperiment } from '../config/load-experiment.ts';
import { prepareResume } from '../train/resume.ts';
import { trainCommand } from './run.ts';

/** Goes on with a stopped, crashed or failed run from its latest checkpoint; --set train.epochs=N extends it. */
export async function resumeCommand(runDir: string, options: { set: string[]; quiet?: boolean }): Promise<void> {
  // The run's own resolved config: any override but train.epochs is refused by prepareResume.
  const { config } = loadExperiment(join(runDir, 'config.yaml'), options.set);
  const resume = prepareResume(runDir, config);
  await trainCommand(config, resume.configFile, options.quiet ?? false, resume);
}
