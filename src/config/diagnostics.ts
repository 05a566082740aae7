import { relative } from 'node:path';
import { UserError } from '../errors.ts';

/** Where a config value came from: a position in a file, or a command-line argument. */
export type Origin = { kind: 'file'; file: string; line: number; col: number; length: number; sourceLine: string } | { kind: 'argument'; argument: string };

export interface Diagnostic {
  origin: Origin;
  message: string;
}

/** Every problem found in a config, reported together. */
export class ConfigError extends UserError {
  override name = 'ConfigError';
  readonly diagnostics: Diagnostic[];

  constructor(diagnostics: Diagnostic[]) {
    super(formatDiagnostics(diagnostics));
    this.diagnostics = diagnostics;
  }
}

function displayPath(file: string): string {
  const fromCwd = relative(process.cwd(), file);
  return fromCwd.startsWith('..') && fromCwd.split('/').length > 4 ? file : fromCwd;
}

/** `file:line:col: message`, then the offending line with a caret under the spot. */
export function formatDiagnostic({ origin, message }: Diagnostic): string {
  if (origin.kind === 'argument') return `argument ${origin.argument}: ${message}`;
  const head = `${displayPath(origin.file)}:${origin.line}:${origin.col}: ${message}`;
  if (!origin.sourceLine) return head;
  const gutter = String(origin.line).length;
  const caret = '^'.repeat(Math.max(1, Math.min(origin.length, origin.sourceLine.length - origin.col + 1)));
  return [
    head,
    `  ${String(origin.line)} | ${origin.sourceLine}`,
    // Keep the source line's tabs so the caret lines up however wide the terminal draws them.
    `  ${' '.repeat(gutter)} | ${origin.sourceLine.slice(0, origin.col - 1).replace(/[^\t]/g, ' ')}${caret}`,
  ].join('\n');
}

export function formatDiagnostics(diagnostics: Diagnostic[]): string {
  const count = diagnostics.length === 1 ? '1 error' : `${diagnostics.length} errors`;
  return `${diagnostics.map(formatDiagnostic).join('\n')}\n${count}`;
}
