// How config values are combined: a file over the file it extends (merge), and an override or a sweep value
// at a dotted path (assign). Both follow the schema: a `kind` tag change replaces the tagged mapping, and a
// mapping an assignment has to create starts from the schema's default.
import { toPointer } from './pointer.ts';
import { schemasAt } from './schema.ts';

export type Json = Record<string, unknown>;

export const isMapping = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

/** The key that tags the mapping at `path` with its kind (the schema's discriminator), if the schema tags it. */
function tagAt(path: readonly string[]): string | undefined {
  for (const schema of schemasAt(path)) {
    const tag = (schema.discriminator as { propertyName?: string } | undefined)?.propertyName;
    if (tag) return tag;
  }
  return undefined;
}

/** Whether `over` names another kind than `under`: then none of `under`'s settings apply (a relu has no alpha). */
function changesKind(path: readonly string[], under: Json, over: Json): boolean {
  const tag = tagAt(path);
  return tag !== undefined && tag in under && tag in over && under[tag] !== over[tag];
}

/** Merges `over` onto `under`, mappings key by key; records the pointers where something was replaced. */
export function deepMerge(under: Json, over: Json, path: string[], replaced: string[]): Json {
  const result: Json = { ...under };
  for (const [key, value] of Object.entries(over)) {
    const childPath = [...path, key];
    const below = under[key];
    if (isMapping(value) && isMapping(below) && !changesKind(childPath, below, value)) {
      result[key] = deepMerge(below, value, childPath, replaced);
    } else {
      if (key in under) replaced.push(toPointer(childPath));
      result[key] = value;
    }
  }
  return result;
}

/** The schema's default for the mapping at `path` (train.optimizers.generator: { kind: adam }), or an empty one. */
function defaultMapping(path: readonly string[]): Json {
  const found = schemasAt(path)
    .map((schema) => schema.default)
    .find(isMapping);
  return found ? structuredClone(found) : {};
}

/**
 * Sets `path` (mapping keys, or item numbers into existing lists) to `value` in `target`. A mapping missing
 * on the way starts from the schema's default, so an override below a defaulted object gets the rest of
 * its defaults; a scalar on the way is replaced by a mapping; a changed kind tag replaces its mapping.
 * Returns the path of the outermost value replaced, which now comes from whoever assigned.
 */
export function assign(target: Json, path: readonly string[], value: unknown): string[] {
  const leaf = path[path.length - 1];
  let parent: Json = target;
  let replaced: string[] | undefined;
  path.slice(0, -1).forEach((segment, depth) => {
    const at = path.slice(0, depth + 1);
    const current = parent[segment];
    let copy: Json;
    if (Array.isArray(current)) {
      copy = [...current] as unknown as Json;
    } else if (!isMapping(current) || (depth === path.length - 2 && changesKind(at, current, { [leaf]: value }))) {
      copy = isMapping(current) ? {} : defaultMapping(at);
      replaced ??= at;
    } else {
      copy = { ...current };
    }
    // Copies along the path: a YAML alias may share a mapping with another key, which must not change too.
    parent[segment] = copy;
    parent = copy;
  });
  parent[leaf] = value;
  return replaced ?? [...path];
}
