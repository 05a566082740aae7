import { isMap, isPair, isScalar, isSeq, LineCounter, parse, Parser, parseDocument, visit as visitDocument, YAMLError, type Document, type Node } from 'yaml';
import type { Diagnostic, Origin } from './diagnostics.ts';

export type { Origin };
import { isReservedKey, reservedKeyMessage, toPointer } from './pointer.ts';

/** Positions of every key and value of one YAML file, by JSON pointer (the form Ajv reports). */
export interface SourceMap {
  keys: Map<string, Origin>;
  values: Map<string, Origin>;
}

export interface ParsedFile {
  file: string;
  value: unknown;
  sourceMap: SourceMap;
  diagnostics: Diagnostic[];
  /** The keys of the top-level mapping ([] for an empty file); undefined when the top level is not a mapping. */
  topLevelKeys: string[] | undefined;
}

/** How many alias copies a file may expand to: a few are handy, an "alias bomb" would exhaust memory. */
const MAX_ALIAS_COUNT = 100;

function fileOrigin(file: string, lines: string[], lineCounter: LineCounter, start: number, end: number): Origin {
  const { line, col } = lineCounter.linePos(start);
  return { kind: 'file', file, line, col, length: Math.max(1, end - start), sourceLine: lines[line - 1] ?? '' };
}

/** Parses the text of a YAML file, keeping where each key and value stands so errors can point at them. */
export function parseYamlFile(file: string, text: string): ParsedFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const lines = text.split(/\r?\n/);
  const at = (start: number, end: number) => fileOrigin(file, lines, lineCounter, start, end);
  const contents = doc.contents as Node | null;
  const topLevelKeys = isMap(contents)
    ? contents.items.map((pair) => String(isScalar(pair.key) ? pair.key.value : pair.key))
    : contents === null
      ? []
      : undefined;

  // After the first syntax error the parser's later complaints are mostly its consequences; duplicate keys
  // are found separately and are real errors of their own.
  const errors = doc.errors.filter((error, index) => index === 0 || error.code === 'DUPLICATE_KEY');
  const diagnostics: Diagnostic[] = errors.map((error) => syntaxDiagnostic(error, text, at));
  const sourceMap: SourceMap = { keys: new Map(), values: new Map() };
  if (diagnostics.length > 0) return { file, value: undefined, sourceMap, diagnostics, topLevelKeys };

  const visitNode = (node: Node | null | undefined, path: string[]) => {
    if (!node?.range) return;
    sourceMap.values.set(toPointer(path), at(node.range[0], node.range[1]));
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair) || !isScalar(pair.key) || !pair.key.range) continue;
        const key = String(pair.key.value);
        const childPath = [...path, key];
        const keyAt = at(pair.key.range[0], pair.key.range[1]);
        sourceMap.keys.set(toPointer(childPath), keyAt);
        if (isReservedKey(key)) diagnostics.push({ origin: keyAt, message: reservedKeyMessage(key) });
        visitNode(pair.value as Node | null, childPath);
        if (!pair.value || !(pair.value as Node).range) {
          // `key:` with nothing after it: point at the key.
          sourceMap.values.set(toPointer(childPath), keyAt);
        }
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => visitNode(item as Node, [...path, String(index)]));
    }
  };
  visitNode(contents, []);
  if (diagnostics.length > 0) return { file, value: undefined, sourceMap, diagnostics, topLevelKeys };
  try {
    return { file, value: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {}, sourceMap, diagnostics, topLevelKeys };
  } catch (error) {
    // The library resolves aliases only here, and throws a ReferenceError for an unknown or runaway one.
    if (!(error instanceof ReferenceError)) throw error;
    return { file, value: undefined, sourceMap, diagnostics: [aliasDiagnostic(doc, error, at)], topLevelKeys };
  }
}

function aliasDiagnostic(doc: Document, error: ReferenceError, at: (start: number, end: number) => Origin): Diagnostic {
  const unknown = /^Unresolved alias[^:]*: (.*)$/.exec(error.message)?.[1];
  let found: Node | undefined;
  visitDocument(doc, {
    Alias: (_key, alias) => {
      if (unknown !== undefined && alias.source !== unknown) return undefined;
      found = alias;
      return visitDocument.BREAK;
    },
  });
  const [start, end] = found?.range ?? [0, 0];
  const message =
    unknown !== undefined
      ? `YAML syntax error: the alias *${unknown} refers to no anchor: write &${unknown} on a value before it`
      : `YAML aliases here expand to more than ${MAX_ALIAS_COUNT} copies in all (an "alias bomb"): write the values out instead`;
  return { origin: at(start, end), message };
}

/** A YAML value written inline (an override, a variable's content): its value, or why it is not valid YAML. */
export function parseYamlValue(text: string): { value: unknown } | { error: string } {
  try {
    return { value: parse(text, { maxAliasCount: MAX_ALIAS_COUNT }) };
  } catch (error) {
    if (!(error instanceof YAMLError || error instanceof ReferenceError)) throw error;
    return { error: withoutPosition(error.message) };
  }
}

/** The library appends "at line L, column C:" and a code excerpt; we print our own position and excerpt. */
const withoutPosition = (message: string) => message.replace(/ at line \d+, column \d+:?[\s\S]*$/, '');

const YAML_MESSAGES: Record<string, string> = {
  TAB_AS_INDENT: 'tab characters are not allowed for indentation in YAML; indent with spaces',
};

function syntaxDiagnostic(error: YAMLError, text: string, at: (start: number, end: number) => Origin): Diagnostic {
  const [start, end] = error.pos;
  const diagnostic = (from: number, to: number, message: string): Diagnostic => ({ origin: at(from, to), message: `YAML syntax error: ${message}` });
  if (error.code === 'DUPLICATE_KEY') {
    const key = /^(?:"[^"\n]*"|'[^'\n]*'|[^\s:,[\]{}#]+)/.exec(text.slice(start))?.[0];
    return key
      ? diagnostic(
          start,
          start + key.length,
          `duplicate key ${key.startsWith('"') ? key : JSON.stringify(key.replace(/^'|'$/g, ''))}: each key may appear only once in a mapping`,
        )
      : diagnostic(start, end, 'duplicate key: each key may appear only once in a mapping');
  }
  if (error.code === 'MISSING_CHAR' && /^Missing closing ["']quote/.test(error.message)) {
    // The parser reports the end of the file, where it gave up; the mistake is where the string opens.
    const opening = unclosedQuoteStart(text, start);
    const quote = error.message.includes('"quote') ? '"' : "'";
    if (opening !== undefined) {
      return diagnostic(opening, opening + 1, `the string opened by this ${quote} is never closed: add the closing ${quote}`);
    }
  }
  const flow = /^Flow (sequence|map) in block collection must be sufficiently indented and end with a ([\]}])/.exec(error.message);
  if (flow) {
    const [open, close] = flow[1] === 'sequence' ? ['[', ']'] : ['{', '}'];
    return diagnostic(
      start,
      end,
      `expected "${close}" to close the ${open} ... ${close} ${flow[1] === 'sequence' ? 'list' : 'mapping'} (or, if it goes on, the next line must be indented more)`,
    );
  }
  return diagnostic(start, end, YAML_MESSAGES[error.code] ?? withoutPosition(error.message));
}

/** The offset of the opening quote of the quoted scalar that runs to `end`. */
function unclosedQuoteStart(text: string, end: number): number | undefined {
  let found: number | undefined;
  const visit = (token: unknown): void => {
    if (Array.isArray(token)) return token.forEach(visit);
    if (token === null || typeof token !== 'object') return;
    const { type, offset, source } = token as { type?: unknown; offset?: unknown; source?: unknown };
    if (
      (type === 'double-quoted-scalar' || type === 'single-quoted-scalar') &&
      typeof offset === 'number' &&
      typeof source === 'string' &&
      offset + source.length === end
    ) {
      found = offset;
    }
    Object.values(token).forEach(visit);
  };
  for (const token of new Parser().parse(text)) visit(token);
  return found;
}
