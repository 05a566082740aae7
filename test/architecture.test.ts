// The code's shape: imports between src/ folders go one way (no folder reaches, through any chain of value
// imports, back to itself). Type-only imports are free: the generated config types are read everywhere.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { PROJECT_ROOT } from './support/tiny-config.ts';

const SRC = join(PROJECT_ROOT, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

/** The folder under src/ a file is in ('' for src/ itself). */
const folderOf = (file: string) => (relative(SRC, file).includes('/') ? relative(SRC, file).split('/')[0] : '');

/** Folder -> folders its files import values from (static and dynamic imports; `import type` left out). */
function folderImports(): Map<string, Map<string, string>> {
  const edges = new Map<string, Map<string, string>>();
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    const specifiers = [
      ...text.matchAll(/^import (?!type )[^;]*?from '(\.[^']+)'/gms),
      ...text.matchAll(/^import '(\.[^']+)'/gm),
      ...text.matchAll(/import\('(\.[^']+)'\)/g),
    ].map((match) => match[1]);
    for (const specifier of specifiers) {
      const target = resolve(dirname(file), specifier);
      const [from, to] = [folderOf(file), folderOf(target)];
      if (from === to || to === '') continue;
      if (!edges.has(from)) edges.set(from, new Map());
      edges.get(from)!.set(to, `${relative(PROJECT_ROOT, file)} imports ${specifier}`);
    }
  }
  return edges;
}

test('imports between src/ folders have no cycles', () => {
  const edges = folderImports();
  const cycles: string[] = [];
  const visit = (folder: string, path: string[]) => {
    for (const [next, why] of edges.get(folder) ?? []) {
      const at = path.indexOf(next);
      if (at !== -1) {
        if (at === 0 && next === path[0]) cycles.push([...path, next].join(' -> ') + ` (${why})`);
        continue;
      }
      if (next > path[0]) visit(next, [...path, next]);
    }
  };
  for (const folder of [...edges.keys()].sort()) visit(folder, [folder]);
  assert.deepEqual(cycles, []);
});

test('nothing imports the command line, and config imports no folder that builds or runs anything', () => {
  const edges = folderImports();
  const intoCli = [...edges].flatMap(([from, to]) => (to.has('cli') ? [`${from}: ${to.get('cli')}`] : []));
  assert.deepEqual(intoCli, []);
  const fromConfig = [...(edges.get('config') ?? [])].filter(([to]) => !['io', 'plan', 'datasets', 'random'].includes(to)).map(([, why]) => why);
  assert.deepEqual(fromConfig, []);
});
