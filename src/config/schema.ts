import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { SCHEMA_PATH } from './schema-path.ts';

export type JsonSchema = Record<string, unknown>;

export const experimentSchema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as JsonSchema;

const ajv = new Ajv({
  allErrors: true,
  useDefaults: true,
  discriminator: true,
  verbose: true,
  strict: true,
  strictRequired: false,
  allowUnionTypes: true,
});
// Annotation read by json-schema-to-typescript when it derives the TypeScript types.
ajv.addKeyword({ keyword: 'tsType', schemaType: 'string' });
// Marks paths that are relative to the file that wrote them (see file-relative.ts).
ajv.addKeyword({ keyword: 'x-fileRelative', schemaType: 'boolean' });

const validateExperiment: ValidateFunction = ajv.compile(experimentSchema);

/** Validates `value` in place (defaults are filled into it); returns the errors, none when valid. */
export function checkAgainstSchema(value: unknown): ErrorObject[] {
  return validateExperiment(value) ? [] : [...(validateExperiment.errors ?? [])];
}

/** Follows a local `$ref` ("#/definitions/x"). */
export function resolveRef(schema: JsonSchema): JsonSchema {
  let current = schema;
  while (typeof current.$ref === 'string') {
    const path = current.$ref.replace(/^#\//, '').split('/');
    let target: unknown = experimentSchema;
    for (const segment of path) target = (target as Record<string, unknown>)[segment];
    current = { ...(target as JsonSchema), ...Object.fromEntries(Object.entries(current).filter(([k]) => k !== '$ref')) };
  }
  return current;
}

/** The alternatives of a `oneOf`, refs resolved. */
export function alternatives(schema: JsonSchema): JsonSchema[] {
  return ((schema.oneOf ?? schema.anyOf ?? []) as JsonSchema[]).map(resolveRef);
}

/** The subschemas that can describe the value at `path` (several where a `oneOf` branches), or none if no key is there. */
export function schemasAt(path: readonly string[]): JsonSchema[] {
  let candidates = [resolveRef(experimentSchema)];
  for (const segment of path) {
    const next: JsonSchema[] = [];
    for (const candidate of candidates.flatMap((s) => [s, ...alternatives(s)])) {
      const properties = candidate.properties as Record<string, JsonSchema> | undefined;
      // Own keys only: "constructor" must not find Object's.
      if (properties && Object.hasOwn(properties, segment)) next.push(resolveRef(properties[segment]));
      else if (/^\d+$/.test(segment) && candidate.items) next.push(resolveRef(candidate.items as JsonSchema));
      else if (typeof candidate.additionalProperties === 'object') next.push(resolveRef(candidate.additionalProperties as JsonSchema));
    }
    candidates = next;
    if (candidates.length === 0) return [];
  }
  return candidates;
}

/** The keys allowed at `path`, for "did you mean" suggestions. */
export function keysAt(path: readonly string[]): string[] {
  const keys = schemasAt(path)
    .flatMap((s) => [s, ...alternatives(s)])
    .flatMap((s) => Object.keys((s.properties as object | undefined) ?? {}));
  return [...new Set(keys)];
}
