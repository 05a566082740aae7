import { loadExperiment } from '../config/load-experiment.ts';
import { UserError } from '../errors.ts';

/** Checks every file, reporting all problems of all files; exit code 2 if any is invalid. */
export async function validateCommand(files: string[]): Promise<void> {
  let failed = 0;
  for (const file of files) {
    try {
      loadExperiment(file);
      process.stdout.write(`${file}: ok\n`);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      failed += 1;
      process.stderr.write(`${error.message}\n`);
    }
  }
  if (failed > 0) {
    process.stderr.write(`${failed} of ${files.length} file${files.length === 1 ? '' : 's'} invalid\n`);
    process.exitCode = 2;
  }
}
