import type { ErrorObject } from 'ajv';
import { closest, distance } from 'fastest-levenshtein';
import type { Diagnostic } from './diagnostics.ts';
import type { Origins } from './origins.ts';
import { alternatives, keysAt, resolveRef, type JsonSchema } from './schema.ts';
import { dotted, fromPointer, toPointer } from './pointer.ts';

/** " (did you mean "learningRate"?)" when a known name is close to what was written. */
export function didYouMean(written: string, known: readonly string[]): string {
  if (known.length === 0) return '';
  const lower = written.toLowerCase();
  const caseOnly = known.find((name) => name.toLowerCase() === lower);
  const best = caseOnly ?? closest(written, [...known]);
  const close = caseOnly !== undefined || distance(written, best) <= Math.max(1, Math.floor(best.length / 3));
  return close ? `; did you mean "${best}"?` : '';
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  return `a ${typeof value}`;
}

const TYPE_WORDS: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
};

/** Turns Ajv's errors into messages a person understands, each at the spot to change. */
export function schemaDiagnostics(errors: ErrorObject[], origins: Origins): Diagnostic[] {
  // A failed anyOf/oneOf also reports every branch's errors: keep the one summary instead.
  const summaries = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.schemaPath);
  const relevant = errors.filter(
    (e) => !summaries.some((summary) => e.schemaPath !== summary && e.schemaPath.startsWith(`${summary}/`)),
  );
  const seen = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  for (const error of relevant) {
    const diagnostic = describe(error, origins);
    const key = `${JSON.stringify(diagnostic.origin)}${diagnostic.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      diagnostics.push(diagnostic);
    }
  }
  return diagnostics;
}

function describe(error: ErrorObject, origins: Origins): Diagnostic {
  const path = fromPointer(error.instancePath);
  const name = dotted(path) || 'the experiment';
  const at = origins.ofValue(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const where = path.length ? `in ${name}` : 'at the top level';
      return {
        origin: origins.ofKey(toPointer([...path, key])),
        message: `unknown key "${key}" ${where}${didYouMean(key, keysAt(path))}`,
      };
    }
    case 'required':
      return {
        origin: path.length ? origins.ofKey(error.instancePath) : at,
        message: `missing required key "${String(params.missingProperty)}" in ${name}`,
      };
    case 'discriminator': {
      const kinds = alternatives(error.parentSchema as JsonSchema).map(
        (branch) => ((branch.properties as Record<string, JsonSchema>).kind as { const: string }).const,
      );
      if (params.error === 'tag' && params.tagValue === undefined) {
        return { origin: origins.ofKey(error.instancePath), message: `missing required key "kind" in ${name} (one of: ${kinds.join(', ')})` };
      }
      const written = String(params.tagValue);
      return {
        origin: origins.ofValue(`${error.instancePath}/kind`),
        message: `${name}.kind must be one of: ${kinds.join(', ')}; got ${show(params.tagValue)}${didYouMean(written, kinds)}`,
      };
    }
    case 'type': {
      const wanted = String(params.type)
        .split(',')
        .map((t) => TYPE_WORDS[t] ?? t)
        .join(' or ');
      const value = error.data !== null && typeof error.data === 'object' ? '' : ` (${show(error.data)})`;
      return { origin: at, message: `${name} must be ${wanted}, got ${typeName(error.data)}${value}` };
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String);
      return {
        origin: at,
        message: `${name} must be one of: ${allowed.join(', ')}; got ${show(error.data)}${didYouMean(String(error.data), allowed)}`,
      };
    }
    case 'const':
      return { origin: at, message: `${name} must be ${show(params.allowedValue)}, got ${show(error.data)}` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum': {
      const op = { minimum: '>=', maximum: '<=', exclusiveMinimum: '>', exclusiveMaximum: '<' }[error.keyword];
      return { origin: at, message: `${name} must be ${op} ${String(params.limit)}, got ${show(error.data)}` };
    }
    case 'minItems':
    case 'maxItems': {
      const schema = error.parentSchema as JsonSchema;
      const exact = schema.minItems === schema.maxItems;
      const count = exact ? `exactly ${String(schema.minItems)}` : `${error.keyword === 'minItems' ? 'at least' : 'at most'} ${String(params.limit)}`;
      return { origin: at, message: `${name} must have ${count} items, got ${(error.data as unknown[]).length}` };
    }
    case 'minProperties':
      return { origin: at, message: `${name} must have at least ${String(params.limit)} entries` };
    case 'minLength':
      return { origin: at, message: `${name} must not be empty` };
    case 'maxLength':
      return { origin: at, message: `${name} must be at most ${String(params.limit)} characters long` };
    case 'pattern':
      return { origin: at, message: `${name} ${show(error.data)} does not match the pattern ${String(params.pattern)}` };
    case 'uniqueItems':
      return { origin: at, message: `${name} must not repeat values (items ${String(params.j)} and ${String(params.i)} are equal)` };
    case 'not': {
      const schema = resolveRef(error.parentSchema as JsonSchema);
      return { origin: at, message: `${name} must be false or a mapping of settings (${Object.keys((schema.properties as object) ?? {}).join(', ')})` };
    }
    case 'anyOf':
    case 'oneOf':
      return { origin: at, message: `${name} ${String((error.parentSchema as JsonSchema).description ?? 'is not any of the allowed forms').replace(/\.$/, '')}` };
    default:
      return { origin: at, message: `${name} ${error.message ?? 'is invalid'}` };
  }
}
