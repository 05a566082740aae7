import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { Diagnostic, Origin } from './diagnostics.ts';

export type { Origin };
import { toPointer } from './pointer.ts';

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
}

export function fileOrigin(file: string, text: string, lineCounter: LineCounter, start: number, end: number): Origin {
  const { line, col } = lineCounter.linePos(start);
  const lines = text.split(/\r?\n/);
  const sourceLine = lines[line - 1] ?? '';
  return { kind: 'file', file, line, col, length: Math.max(1, end - start), sourceLine };
}

/** Reads a YAML file, keeping where each key and value stands so errors can point at them. */
export function parseYamlFile(file: string, text = readFileSync(file, 'utf8')): ParsedFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const at = (start: number, end: number) => fileOrigin(file, text, lineCounter, start, end);

  // After the first syntax error the parser's later complaints are mostly its consequences; duplicate keys
  // are found separately and are real errors of their own.
  const errors = doc.errors.filter((error, index) => index === 0 || error.code === 'DUPLICATE_KEY');
  const diagnostics: Diagnostic[] = errors.map((error) => ({
    origin: at(error.pos[0], error.pos[1]),
    message: `YAML syntax error: ${yamlMessage(error.code, error.message)}`,
  }));
  const sourceMap: SourceMap = { keys: new Map(), values: new Map() };
  if (diagnostics.length > 0) return { file, value: undefined, sourceMap, diagnostics };

  const visit = (node: Node | null | undefined, path: string[]) => {
    if (!node?.range) return;
    sourceMap.values.set(toPointer(path), at(node.range[0], node.range[1]));
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair) || !isScalar(pair.key) || !pair.key.range) continue;
        const childPath = [...path, String(pair.key.value)];
        sourceMap.keys.set(toPointer(childPath), at(pair.key.range[0], pair.key.range[1]));
        visit(pair.value as Node | null, childPath);
        if (!pair.value || !(pair.value as Node).range) {
          // `key:` with nothing after it: point at the key.
          sourceMap.values.set(toPointer(childPath), at(pair.key.range[0], pair.key.range[1]));
        }
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => visit(item as Node, [...path, String(index)]));
    }
  };
  visit(doc.contents as Node, []);
  return { file, value: doc.toJS({ maxAliasCount: 100 }) ?? {}, sourceMap, diagnostics };
}

const YAML_MESSAGES: Record<string, string> = {
  TAB_AS_INDENT: 'tab characters are not allowed for indentation in YAML; indent with spaces',
  DUPLICATE_KEY: 'duplicate key: each key may appear only once in a mapping',
};

function yamlMessage(code: string, message: string): string {
  // The library appends "at line L, column C:" and a code excerpt; we print our own position and excerpt.
  return YAML_MESSAGES[code] ?? message.replace(/ at line \d+, column \d+:?[\s\S]*$/, '');
}
