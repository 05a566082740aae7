import { UserError } from '../errors.ts';
import { setupTensorflow } from '../setup/tensorflow.ts';

export async function setupCommand(backend: string, options: { gpu?: boolean }): Promise<void> {
  if (backend !== 'tensorflow') throw new UserError(`setup: unknown backend "${backend}"; the only one to build is tensorflow`);
  try {
    await setupTensorflow({ gpu: options.gpu ?? false, log: (line) => process.stderr.write(`${line}\n`) });
  } catch (error) {
    throw new UserError(`setup tensorflow failed: ${(error as Error).message}`);
  }
}
