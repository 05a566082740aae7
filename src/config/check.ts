import type { Experiment } from './experiment.generated.ts';
import type { Diagnostic } from './diagnostics.ts';
import type { Origins } from './origins.ts';
import { folderOf, resolveFileRelativePaths } from './file-relative.ts';
import { checkAgainstSchema } from './schema.ts';
import { schemaDiagnostics } from './schema-messages.ts';
import { semanticDiagnostics } from './semantic.ts';

/**
 * Validates a composed config: fills defaults, checks the schema, then the rules the schema cannot
 * express. Returns the diagnostics; an empty list means `value` is now a complete Experiment.
 */
export function checkConfig(value: Record<string, unknown>, origins: Origins): Diagnostic[] {
  const errors = checkAgainstSchema(value);
  if (errors.length > 0) return schemaDiagnostics(errors, origins);
  // Paths in the config are relative to the file that wrote them (or to the working directory, for an argument).
  resolveFileRelativePaths(value, (pointer) => folderOf(origins.ofValue(pointer)));
  return semanticDiagnostics(value as unknown as Experiment, origins);
}
