import { dirname, isAbsolute, resolve } from 'node:path';
import type { Experiment } from './experiment.generated.ts';
import type { Diagnostic } from './diagnostics.ts';
import type { Origins } from './origins.ts';
import { fromPointer, getAt, setAt } from './pointer.ts';
import { checkAgainstSchema } from './schema.ts';
import { schemaDiagnostics } from './schema-messages.ts';
import { semanticDiagnostics } from './semantic.ts';

/**
 * Validates a composed config: fills defaults, checks the schema, then the rules the schema cannot
 * express. Returns the diagnostics; an empty list means `value` is now a complete Experiment.
 */
export function checkConfig(value: Record<string, unknown>, origins: Origins): Diagnostic[] {
  const { errors, fileRelativePaths } = checkAgainstSchema(value);
  if (errors.length > 0) return schemaDiagnostics(errors, origins);
  resolveFileRelativePaths(value, fileRelativePaths, origins);
  return semanticDiagnostics(value as unknown as Experiment, origins);
}

/** Paths in the config are relative to the file that wrote them (or to the working directory, for an argument). */
function resolveFileRelativePaths(value: Record<string, unknown>, pointers: string[], origins: Origins): void {
  for (const pointer of pointers) {
    const path = fromPointer(pointer);
    const written = getAt(value, path);
    if (typeof written !== 'string' || isAbsolute(written)) continue;
    const origin = origins.ofValue(pointer);
    const base = origin.kind === 'file' ? dirname(origin.file) : process.cwd();
    setAt(value, path, resolve(base, written));
  }
}
