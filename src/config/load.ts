import { basename, dirname, resolve } from 'node:path';
import type { Diagnostic, Origin } from './diagnostics.ts';
import { ConfigError } from './diagnostics.ts';
import { UserError } from '../errors.ts';
import { assign, deepMerge, isMapping, type Json } from './merge.ts';
import { Origins } from './origins.ts';
import { dotted, isReservedKey, reservedKeyMessage, toPointer } from './pointer.ts';
import { readConfigText } from './read-file.ts';
import { keysAt } from './schema.ts';
import { parseYamlFile, parseYamlValue, type ParsedFile } from './yaml-file.ts';

/** A config composed from a file, the files it extends, and command-line overrides; not yet validated. */
export interface ComposedConfig {
  file: string;
  value: Json;
  origins: Origins;
  /** Every file read, the requested one first. */
  files: string[];
}

/** What reading the layers collects: where values came from, the files read, and the problems found. */
interface Composition {
  origins: Origins;
  files: string[];
  diagnostics: Diagnostic[];
}

/** The `extends:` that led to a file: where it is written and what it says. */
interface Reference {
  at: Origin;
  written: string;
}

/** The start of a file: where a problem with the file as a whole is reported, quoting none of it. */
const startOf = (file: string): Origin => ({ kind: 'file', file, line: 1, col: 1, length: 1, sourceLine: '' });

const NOT_AN_EXPERIMENT = 'not an experiment file: its top level is not a YAML mapping of experiment settings (name:, data:, model:, ...)';

/**
 * Reads `file` and the chain of files it `extends`, deep-merges them (objects key by key, lists and scalars
 * replaced, a mapping whose `kind` changes replaced whole), applies `overrides` ("a.b.c=value", the value
 * parsed as YAML) and ${ENV} interpolation.
 */
export function composeConfig(file: string, overrides: readonly string[] = [], env: NodeJS.ProcessEnv = process.env): ComposedConfig {
  const absolute = resolve(file);
  const read = readConfigText(absolute);
  if ('problem' in read) throw new UserError(`${file}: ${read.missing ? 'no such config file' : read.problem}`);
  const composition: Composition = { origins: new Origins(startOf(absolute)), files: [], diagnostics: [] };
  const { origins, files, diagnostics } = composition;
  const value = readLayers(absolute, read.text, [], undefined, composition);
  if (diagnostics.length > 0) throw new ConfigError(diagnostics);

  for (const argument of overrides) applyOverride(value, argument, origins, diagnostics);
  interpolate(value, [], env, origins, diagnostics);
  if (diagnostics.length > 0) throw new ConfigError(diagnostics);
  return { file: absolute, value, origins, files };
}

/**
 * Whether a parsed file can be an experiment: a mapping with at least one experiment key (or empty). Any other
 * file (/etc/shadow, a key file) is refused as a whole, so that no line of it is quoted back.
 */
function looksLikeExperiment(parsed: ParsedFile): boolean {
  const keys = parsed.topLevelKeys;
  if (keys === undefined) return false;
  const known = keysAt([]);
  return keys.length === 0 || keys.some((key) => known.includes(key));
}

function readLayers(file: string, text: string, chain: string[], reference: Reference | undefined, composition: Composition): Json {
  const { origins, files, diagnostics } = composition;
  const parsed = parseYamlFile(file, text);
  files.push(file);
  if (!looksLikeExperiment(parsed)) {
    diagnostics.push(
      reference
        ? { origin: reference.at, message: `extends ${reference.written}: ${NOT_AN_EXPERIMENT}` }
        : { origin: startOf(file), message: NOT_AN_EXPERIMENT },
    );
    return {};
  }
  if (parsed.diagnostics.length > 0) {
    diagnostics.push(...parsed.diagnostics);
    return {};
  }
  const own = parsed.value as Json;
  const base = own.extends === undefined ? {} : readBase(file, own.extends, parsed, chain, composition);
  const replaced: string[] = [];
  const merged = deepMerge(base, own, [], replaced);
  delete merged.extends;
  origins.overlay(parsed.sourceMap, replaced);
  return merged;
}

/** The composed layers below `file`, which extends `written`; {} (with a diagnostic) where they cannot be read. */
function readBase(file: string, written: unknown, parsed: ParsedFile, chain: string[], composition: Composition): Json {
  const { origins, diagnostics } = composition;
  const at = parsed.sourceMap.values.get('/extends') ?? origins.fallback;
  if (typeof written !== 'string' || written === '') {
    diagnostics.push({ origin: at, message: 'extends must be a path to another experiment file' });
    return {};
  }
  const parent = resolve(dirname(file), written);
  if (parent === file || chain.includes(parent)) {
    // Only the loop itself: files that merely lead into it are not part of the problem.
    const loop = [...chain, file].slice([...chain, file].indexOf(parent));
    const cycle = [...loop, parent].map((f) => basename(f)).join(' -> ');
    diagnostics.push({ origin: at, message: `extends cycle: ${cycle}` });
    return {};
  }
  const read = readConfigText(parent);
  if ('problem' in read) {
    const message = read.missing ? `extends file not found: ${written} (looked for ${parent})` : `extends ${written}: ${read.problem}`;
    diagnostics.push({ origin: at, message });
    return {};
  }
  return readLayers(parent, read.text, [...chain, file], { at, written }, composition);
}

function applyOverride(value: Json, argument: string, origins: Origins, diagnostics: Diagnostic[]): void {
  const origin: Origin = { kind: 'argument', argument };
  const equals = argument.indexOf('=');
  const path = equals > 0 ? argument.slice(0, equals).split('.') : [];
  if (path.length === 0 || path.some((segment) => !/^[A-Za-z0-9_$-]+$/.test(segment))) {
    diagnostics.push({ origin, message: 'an override must look like key.path=value, e.g. train.epochs=2' });
    return;
  }
  const reserved = path.find(isReservedKey);
  if (reserved !== undefined) {
    diagnostics.push({ origin, message: reservedKeyMessage(reserved) });
    return;
  }
  // Into an existing list a segment must be an item number, at most one past the end (which appends).
  let current: unknown = value;
  for (const [depth, segment] of path.entries()) {
    if (Array.isArray(current) && !(/^\d+$/.test(segment) && Number(segment) <= current.length)) {
      const range = current.length === 0 ? '0 to append' : `0 to ${current.length - 1} (or ${current.length} to append)`;
      diagnostics.push({
        origin,
        message: `${dotted(path.slice(0, depth))} is a list of ${current.length} item${current.length === 1 ? '' : 's'}: use an item number from ${range}, not "${segment}"`,
      });
      return;
    }
    if (current === null || typeof current !== 'object') break;
    current = (current as Json)[segment];
  }
  const parsed = parseYamlValue(argument.slice(equals + 1));
  if ('error' in parsed) {
    diagnostics.push({ origin, message: `the value is not valid YAML: ${parsed.error}` });
    return;
  }
  origins.setByArgument(toPointer(assign(value, path, parsed.value ?? null)), origin);
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
    const whole = /^\$\{([^}:]*)[^}]*\}$/.exec(node);
    if (!whole) return text;
    const parsed = parseYamlValue(text);
    if ('value' in parsed) return parsed.value ?? text;
    // The content is not echoed: a variable may hold a secret.
    const source = env[whole[1]] ? `environment variable ${whole[1]}` : `the default of \${${whole[1]}:-...}`;
    diagnostics.push({
      origin: origins.ofValue(toPointer(path)),
      message: `${dotted(path)}: ${source} is not valid YAML (${parsed.error}); a value that is one \${...} alone is read as YAML`,
    });
    return node;
  }
  if (Array.isArray(node)) {
    node.forEach((item, index) => (node[index] = interpolate(item, [...path, String(index)], env, origins, diagnostics)));
  } else if (isMapping(node)) {
    for (const key of Object.keys(node)) node[key] = interpolate(node[key], [...path, key], env, origins, diagnostics);
  }
  return node;
}
