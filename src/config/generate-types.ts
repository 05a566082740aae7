import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compile, type JSONSchema } from 'json-schema-to-typescript';

import { SCHEMA_PATH } from './schema-path.ts';

export const GENERATED_TYPES_PATH = fileURLToPath(new URL('./experiment.generated.ts', import.meta.url));

/** Marks every property that has a default as required: after validation fills defaults, it is always there. */
function requireDefaulted(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(requireDefaulted);
  if (node === null || typeof node !== 'object') return;
  const schema = node as Record<string, unknown>;
  const properties = schema.properties as Record<string, Record<string, unknown>> | undefined;
  if (properties) {
    const defaulted = Object.keys(properties).filter((key) => 'default' in properties[key]);
    schema.required = [...new Set([...((schema.required as string[]) ?? []), ...defaulted])];
  }
  Object.values(schema).forEach(requireDefaulted);
}

/** The TypeScript declarations of the resolved experiment config (defaults filled), derived from the JSON Schema. */
export async function renderExperimentTypes(): Promise<string> {
  const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as JSONSchema;
  requireDefaulted(schema);
  return compile(schema, 'Experiment', {
    bannerComment:
      '// Generated from schemas/experiment.schema.json by `npm run gen:types`. Do not edit.\n' +
      '// Keys with a default are required here: these are the types of a config after validation filled them.',
    additionalProperties: false,
    unreachableDefinitions: false,
    style: { singleQuote: true },
  });
}
