import { existsSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Diagnostic, Origin } from './diagnostics.ts';
import { ConfigError } from './diagnostics.ts';
import { UserError } from '../errors.ts';
import { Origins } from './origins.ts';
import { dotted, setAt, toPointer } from './pointer.ts';
import { parseYamlFile } from './yaml-file.ts';

type Json = Record<string, unknown>;

/** A config composed from a file, the files it extends, and command-line overrides; not yet validated. */
export interface ComposedConfig {
  file: string;
  value: Json;
  origins: Origins;
  /** Every file read, the requested one first. */
  files: string[];
}

const isObject = (value: unknown): value is Json => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Reads `file` and the chain of files it `extends`, deep-merges them (objects key by key, lists and scalars
 * replaced), applies `overrides` ("a.b.c=value", the value parsed as YAML) and ${ENV} interpolation.
 */
export function composeConfig(file: string, overrides: readonly string[] = [], env: NodeJS.ProcessEnv = process.env): ComposedConfig {
  const absolute = resolve(file);
  if (!existsSync(absolute)) throw new UserError(`${file}: no such config file`);
  const start: Origin = { kind: 'file', file: absolute, line: 1, col: 1, length: 1, sourceLine: '' };
  const origins = new Origins(start);
  const diagnostics: Diagnostic[] = [];
  const files: string[] = [];
  const value = readLayers(absolute, [], origins, files, diagnostics);
  if (diagnostics.length > 0) throw new ConfigError(diagnostics);

  for (const argument of overrides) applyOverride(value, argument, origins, diagnostics);
  interpolate(value, [], env, origins, diagnostics);
  if (diagnostics.length > 0) throw new ConfigError(diagnostics);
  return { file: absolute, value, origins, files };
}

function readLayers(file: string, chain: string[], origins: Origins, files: string[], diagnostics: Diagnostic[]): Json {
  if (!existsSync(file)) throw new UserError(`${file}: no such config file`);
  const parsed = parseYamlFile(file);
  files.push(file);
  if (parsed.diagnostics.length > 0) {
    diagnostics.push(...parsed.diagnostics);
    return {};
  }
  if (!isObject(parsed.value)) {
    const origin = parsed.sourceMap.values.get('') ?? { ...origins.fallback, file };
    diagnostics.push({ origin, message: 'an experiment file must be a mapping of keys (name:, data:, model:, ...)' });
    return {};
  }
  const own = parsed.value;
  let base: Json = {};
  const parentRef = own.extends;
  if (parentRef !== undefined) {
    const at = parsed.sourceMap.values.get('/extends') ?? origins.fallback;
    if (typeof parentRef !== 'string' || parentRef === '') {
      diagnostics.push({ origin: at, message: 'extends must be a path to another experiment file' });
    } else {
      const parent = resolve(dirname(file), parentRef);
      if (parent === file || chain.includes(parent)) {
        // Only the loop itself: files that merely lead into it are not part of the problem.
        const loop = [...chain, file].slice([...chain, file].indexOf(parent));
        const cycle = [...loop, parent].map((f) => basename(f)).join(' -> ');
        diagnostics.push({ origin: at, message: `extends cycle: ${cycle}` });
      } else if (!existsSync(parent)) {
        diagnostics.push({ origin: at, message: `extends file not found: ${parentRef} (looked for ${parent})` });
      } else {
        base = readLayers(parent, [...chain, file], origins, files, diagnostics);
      }
    }
  }
  const replaced: string[] = [];
  const merged = deepMerge(base, own, [], replaced);
  delete merged.extends;
  origins.overlay(parsed.sourceMap, replaced);
  return merged;
}

/** Merges `over` onto `under`; records the pointers where a non-object replaced something. */
function deepMerge(under: Json, over: Json, path: string[], replaced: string[]): Json {
  const result: Json = { ...under };
  for (const [key, value] of Object.entries(over)) {
    const childPath = [...path, key];
    if (isObject(value) && isObject(under[key])) {
      result[key] = deepMerge(under[key] as Json, value, childPath, replaced);
    } else {
      if (key in under) replaced.push(toPointer(childPath));
      result[key] = value;
    }
  }
  return result;
}

function applyOverride(value: Json, argument: string, origins: Origins, diagnostics: Diagnostic[]): void {
  const origin: Origin = { kind: 'argument', argument };
  const equals = argument.indexOf('=');
  const path = equals > 0 ? argument.slice(0, equals).split('.') : [];
  if (path.length === 0 || path.some((segment) => !/^[A-Za-z0-9_$-]+$/.test(segment))) {
    diagnostics.push({ origin, message: 'an override must look like key.path=value, e.g. train.epochs=2' });
    return;
  }
  // Into an existing list a segment must be an item number, at most one past the end (which appends).
  let current: unknown = value;
  for (const [depth, segment] of path.entries()) {
    if (Array.isArray(current) && !(/^\d+$/.test(segment) && Number(segment) <= current.length)) {
      const range = current.length === 0 ? '0 to append' : `0 to ${current.length - 1} (or ${current.length} to append)`;
      diagnostics.push({ origin, message: `${dotted(path.slice(0, depth))} is a list of ${current.length} item${current.length === 1 ? '' : 's'}: use an item number from ${range}, not "${segment}"` });
      return;
    }
    if (current === null || typeof current !== 'object') break;
    current = (current as Json)[segment];
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(argument.slice(equals + 1));
  } catch (error) {
    const reason = (error as Error).message.replace(/ at line \d+, column \d+:?[\s\S]*$/, '');
    diagnostics.push({ origin, message: `the value is not valid YAML: ${reason}` });
    return;
  }
  setAt(value, path, parsed ?? null);
  origins.setByArgument(toPointer(path), origin);
}

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** Replaces ${VAR} and ${VAR:-default} in strings; a value that is one reference alone is re-read as YAML, so numbers stay numbers. */
function interpolate(node: unknown, path: string[], env: NodeJS.ProcessEnv, origins: Origins, diagnostics: Diagnostic[]): unknown {
  if (typeof node === 'string') {
    if (!node.includes('${')) return node;
    const missing: string[] = [];
    const text = node.replace(VARIABLE, (_match, name: string, fallback: string | undefined) => {
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      missing.push(name);
      return '';
    });
    if (missing.length > 0) {
      diagnostics.push({
        origin: origins.ofValue(toPointer(path)),
        message: `${dotted(path)}: environment variable ${missing.join(', ')} is not set (write \${${missing[0]}:-default} to give a default)`,
      });
      return node;
    }
    const whole = node.match(/^\$\{[^}]*\}$/);
    return whole ? (parseYaml(text) ?? text) : text;
  }
  if (Array.isArray(node)) {
    node.forEach((item, index) => (node[index] = interpolate(item, [...path, String(index)], env, origins, diagnostics)));
  } else if (isObject(node)) {
    for (const key of Object.keys(node)) node[key] = interpolate(node[key], [...path, key], env, origins, diagnostics);
  }
  return node;
}
