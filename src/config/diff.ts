// How two configs differ, key by key, for messages that refuse a change (a sweep's or a run's resume).
import { canonicalJson } from '../io/canonical-json.ts';
import { dotted } from './pointer.ts';

const show = (value: unknown): string => (value === undefined ? '(unset)' : JSON.stringify(value));

/** One line per differing leaf, `a.b.c old -> new`; below `depth` keys a whole value is one line. */
export function configDifferences(a: unknown, b: unknown, path: string[] = [], depth = 6): string[] {
  if (canonicalJson(a) === canonicalJson(b)) return [];
  const bothObjects = a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b) && !Array.isArray(a);
  if (!bothObjects || path.length >= depth) return [`${dotted(path) || '(config)'} ${show(a)} -> ${show(b)}`];
  const keys = [...new Set([...Object.keys(a as object), ...Object.keys(b as object)])].sort();
  return keys.flatMap((key) => configDifferences((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], [...path, key], depth));
}
