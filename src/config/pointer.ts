// JSON pointers (RFC 6901), the paths Ajv reports errors at, and the dotted paths users write.

export function toPointer(path: readonly string[]): string {
  return path.map((segment) => `/${segment.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

export function fromPointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** `train.optimizers.generator` for display; list indexes as `transforms[2]`. */
export function dotted(path: readonly string[]): string {
  return path.reduce((text, segment) => (/^\d+$/.test(segment) ? `${text}[${segment}]` : text ? `${text}.${segment}` : segment), '');
}

export function getAt(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/** Sets `path` in `target`, creating mappings on the way; numeric segments index into existing lists. */
export function setAt(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let current: Record<string, unknown> = target;
  for (const segment of path.slice(0, -1)) {
    const next = current[segment];
    if (next === null || typeof next !== 'object') current[segment] = {};
    current = current[segment] as Record<string, unknown>;
  }
  current[path[path.length - 1]] = value;
}

/** Names that reach JavaScript's object machinery (`a.__proto__.x = 1` writes onto every object) instead of a setting. */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export const isReservedKey = (key: string): boolean => RESERVED_KEYS.has(key);

export const reservedKeyMessage = (key: string): string =>
  `"${key}" cannot be a key: no setting has this name, and JavaScript reserves __proto__, constructor and prototype`;
