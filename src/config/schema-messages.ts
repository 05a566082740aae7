import type { ErrorObject } from 'ajv';
import type { Diagnostic } from './diagnostics.ts';
import type { Origins } from './origins.ts';
import { alternatives, keysAt, resolveRef, type JsonSchema } from './schema.ts';
import { dotted, fromPointer, toPointer } from './pointer.ts';

/**
 * Edit distance counting an insertion, deletion, substitution or swap of two neighbours as one edit
 * (optimal string alignment), so the commonest typo, "trian" for "train", is one edit away.
 */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      rows[i][j] = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1);
    }
  }
  return rows[a.length][b.length];
}

/** "; did you mean "learningRate"?" when a known name is close to what was written (case aside, about one edit in three letters). */
export function didYouMean(written: string, known: readonly string[]): string {
  if (known.length === 0) return '';
  const lower = written.toLowerCase();
  const caseOnly = known.find((name) => name.toLowerCase() === lower);
  if (caseOnly !== undefined) return `; did you mean "${caseOnly}"?`;
  const scored = known.map((name) => ({ name, distance: editDistance(lower, name.toLowerCase()) }));
  const best = scored.reduce((a, b) => (b.distance < a.distance ? b : a));
  return best.distance <= Math.max(1, Math.round(best.name.length / 3)) ? `; did you mean "${best.name}"?` : '';
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

/** Patterns of the schema in words. */
const PATTERN_WORDS: Record<string, string> = {
  '^[A-Za-z0-9][A-Za-z0-9._-]*$': "may contain only letters, digits, '.', '_' and '-', and must start with a letter or digit",
  '^#[0-9a-fA-F]{6}$': 'must be a colour written #rrggbb, e.g. "#ffffff"',
  '^https?://': 'must be an http:// or https:// URL',
};

/** Values people write that are near a valid one by spelling but mean something else: say what to do instead. */
const VALUE_HINTS: Record<string, Record<string, string>> = {
  'train.backend': Object.fromEntries(
    ['gpu', 'cuda', 'webgl'].map((value) => [
      value,
      ` (there is no ${value} backend: "webgpu" runs on a GPU through Vulkan; "tensorflow" runs TensorFlow's native kernels, built by \`dcgan-run setup tensorflow\`)`,
    ]),
  ),
};

const TYPE_WORDS: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
};

/** Why a YAML value that looks right has the wrong type. */
function typeHint(wanted: string, data: unknown): string {
  if (typeof data !== 'string') return '';
  if (/number|integer/.test(wanted) && data.trim() !== '' && Number.isFinite(Number(data))) return ': remove the quotes to write a number';
  if (wanted.includes('boolean') && /^(yes|no|on|off|y|n)$/i.test(data)) return ': YAML 1.2 reads this as a string; write true or false';
  return '';
}

/** Turns Ajv's errors into messages a person understands, each at the spot to change. */
export function schemaDiagnostics(errors: ErrorObject[], origins: Origins): Diagnostic[] {
  // A failed anyOf/oneOf also reports every branch's errors: keep the one summary instead.
  const summaries = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.schemaPath);
  const relevant = errors.filter((e) => !summaries.some((summary) => e.schemaPath !== summary && e.schemaPath.startsWith(`${summary}/`)));
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
      // The schema that refused the key: with a `kind`, only that kind's branch, so a relu is not offered leakyRelu's alpha.
      const properties = (error.parentSchema as JsonSchema | undefined)?.properties as object | undefined;
      const known = properties ? Object.keys(properties) : keysAt(path);
      const hint = didYouMean(key, known) || (known.length > 0 ? ` (known keys: ${known.join(', ')})` : '');
      return { origin: origins.ofKey(toPointer([...path, key])), message: `unknown key "${key}" ${where}${hint}` };
    }
    case 'required':
      return {
        origin: path.length ? origins.ofKey(error.instancePath) : at,
        message: `missing required key "${String(params.missingProperty)}" ${path.length ? `in ${name}` : 'at the top level'}`,
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
      return { origin: at, message: `${name} must be ${wanted}, got ${typeName(error.data)}${value}${typeHint(String(params.type), error.data)}` };
    }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String);
      const hint = VALUE_HINTS[name]?.[String(error.data).toLowerCase()] ?? didYouMean(String(error.data), allowed);
      return { origin: at, message: `${name} must be one of: ${allowed.join(', ')}; got ${show(error.data)}${hint}` };
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
    case 'pattern': {
      const words = PATTERN_WORDS[String(params.pattern)] ?? `must match the pattern ${String(params.pattern)}`;
      return { origin: at, message: `${name} ${words}, got ${show(error.data)}` };
    }
    case 'uniqueItems':
      return { origin: at, message: `${name} must not repeat values (items ${String(params.j)} and ${String(params.i)} are equal)` };
    case 'not': {
      const schema = resolveRef(error.parentSchema as JsonSchema);
      const settings = Object.keys((schema.properties as object) ?? {}).join(', ');
      return { origin: at, message: `${name} must be false or a mapping of settings (${settings}), got ${show(error.data)}` };
    }
    case 'anyOf':
    case 'oneOf':
      return {
        origin: at,
        message: `${name} ${String((error.parentSchema as JsonSchema).description ?? 'is not any of the allowed forms').replace(/\.$/, '')}`,
      };
    default:
      return { origin: at, message: `${name} ${error.message ?? 'is invalid'}` };
  }
}
