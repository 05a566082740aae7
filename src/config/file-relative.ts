// Values the schema marks `x-fileRelative` are paths relative to the file that wrote them. Where such values
// can sit is read once from the schema, so finding them in a config needs no validation pass.
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Origin } from './diagnostics.ts';
import { getAt, setAt, toPointer } from './pointer.ts';
import { experimentSchema, resolveRef, type JsonSchema } from './schema.ts';

/** A path through a config; ANY stands for every item of a list or every key of a map. */
type Pattern = readonly string[];
const ANY = '*';

const isSchema = (value: unknown): value is JsonSchema => value !== null && typeof value === 'object' && !Array.isArray(value);

/** The patterns of the marked values under `schema`, which describes the value at `at`; `refs` guards against recursion. */
function markedPatterns(schema: JsonSchema, at: Pattern, refs: readonly string[]): Pattern[] {
  const ref = schema.$ref;
  if (typeof ref === 'string' && refs.includes(ref)) return [];
  const inside = typeof ref === 'string' ? [...refs, ref] : refs;
  const resolved = resolveRef(schema);
  const below = (child: unknown, path: Pattern) => (isSchema(child) ? markedPatterns(child, path, inside) : []);
  const properties = Object.entries((resolved.properties ?? {}) as Record<string, JsonSchema>);
  return [
    ...(resolved['x-fileRelative'] === true ? [at] : []),
    ...['oneOf', 'anyOf', 'allOf'].flatMap((key) => ((resolved[key] ?? []) as JsonSchema[]).flatMap((branch) => below(branch, at))),
    ...properties.flatMap(([key, child]) => below(child, [...at, key])),
    ...below(resolved.items, [...at, ANY]),
    ...below(resolved.additionalProperties, [...at, ANY]),
  ];
}

const FILE_RELATIVE: readonly Pattern[] = Object.freeze(markedPatterns(experimentSchema, [], []));

/** The paths in `value` that match `pattern`, below `at`. */
function matches(value: unknown, pattern: Pattern, at: string[]): string[][] {
  if (pattern.length === 0) return [at];
  if (value === null || typeof value !== 'object') return [];
  const [head, ...rest] = pattern;
  const keys = head === ANY ? Object.keys(value) : Object.hasOwn(value, head) ? [head] : [];
  return keys.flatMap((key) => matches((value as Record<string, unknown>)[key], rest, [...at, key]));
}

/** The folder a relative path written at `origin` is relative to: its file's, or the working directory for an argument. */
export const folderOf = (origin: Origin): string => (origin.kind === 'file' ? dirname(origin.file) : process.cwd());

/**
 * Makes each relative file path in a schema-valid `value` absolute, against the folder `folderFor` gives for its
 * pointer; a path it gives no folder for is left as written.
 */
export function resolveFileRelativePaths(value: Record<string, unknown>, folderFor: (pointer: string) => string | undefined): void {
  for (const path of FILE_RELATIVE.flatMap((pattern) => matches(value, pattern, []))) {
    const written = getAt(value, path);
    if (typeof written !== 'string' || isAbsolute(written)) continue;
    const folder = folderFor(toPointer(path));
    if (folder !== undefined) setAt(value, path, resolve(folder, written));
  }
}
