// The per-class Frechet distances of all-class generators (train.eval.metrics perClass, see src/eval/per-class.ts)
// as a markdown table: per class and arm, the mean FD, the mean real-vs-real floor, the mean ratio to the floor with
// its sample sd and 95% t interval over the arm's runs, and the images per side. Each argument is one evaluation:
// arm=<dcgan-run eval's JSON file>, or arm=<run directory> for its newest eval-*.json; runs of one arm are its seeds.
//
//   node --import tsx scripts/per-class-fd.ts lesson=docs/results/fashion-all-class/lesson-seed0.json lesson=... recipe=...
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../src/errors.ts';
import { IDX_DATASETS } from '../src/datasets/catalog.ts';
import { summarize } from '../src/stats/tests.ts';
import { BASELINE_PREFIX } from '../src/eval/metrics.ts';
import { FMNIST_CNN } from '../src/eval/classifier.ts';

const USAGE = 'usage: per-class-fd.ts <arm>=<eval JSON file | run dir> ...';
const CLASS_FD = /^fd_class\/([^/]+)\/n(\d+)\/c(\d+)$/;

function evalFile(path: string): string {
  if (!statSync(path).isDirectory()) return path;
  const files = readdirSync(path)
    .filter((name) => /^eval-.*\.json$/.test(name))
    .map((name) => join(path, name))
    .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
  if (files.length === 0) throw new UserError(`${path}: no eval-*.json (run dcgan-run eval <run> --metrics classifier,perClass)`);
  return files.at(-1)!;
}

function main(): void {
  const arms = new Map<string, Record<string, number>[]>();
  for (const argument of process.argv.slice(2)) {
    const [arm, path] = argument.split('=');
    if (!arm || !path) throw new UserError(USAGE);
    const { values } = JSON.parse(readFileSync(evalFile(path), 'utf8')) as { values: Record<string, number> };
    if (!Object.keys(values).some((name) => CLASS_FD.test(name)))
      throw new UserError(`${path}: no fd_class metrics (evaluate with --metrics classifier,perClass)`);
    arms.set(arm, [...(arms.get(arm) ?? []), values]);
  }
  if (arms.size === 0) throw new UserError(USAGE);

  const classIds = [...new Set([...arms.values()].flat().flatMap((values) => Object.keys(values).flatMap((name) => CLASS_FD.exec(name)?.[3] ?? [])))].map(
    Number,
  );
  // Class names where the extractor is the Fashion-MNIST classifier; ids alone otherwise.
  const extractors = new Set([...arms.values()].flat().flatMap((values) => Object.keys(values).flatMap((name) => CLASS_FD.exec(name)?.[1] ?? [])));
  const names = extractors.size === 1 && extractors.has(FMNIST_CNN.name) ? IDX_DATASETS['fashion-mnist'].classNames : [];
  const fmt = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : '-');
  /** fd_class's name for class `id` in an evaluation (one extractor and sample size each). */
  const nameOf = (values: Record<string, number>, id: number) => Object.keys(values).find((name) => CLASS_FD.exec(name)?.[3] === String(id));

  const header = [...arms.keys()].flatMap((arm) => [`${arm}: FD (floor)`, `${arm}: x floor, 95% CI`, `${arm}: images`]);
  const lines = [`| class | ${header.join(' | ')} |`, `|---|${header.map(() => '---').join('|')}|`];
  for (const id of classIds) {
    const cells = [...arms.values()].flatMap((runs) => {
      const found = runs.flatMap((values) => {
        const name = nameOf(values, id);
        return name ? [{ fd: values[name]!, floor: values[`${BASELINE_PREFIX}${name}`]!, count: values[name.replace(/^fd_class\//, 'fd_class_n/')]! }] : [];
      });
      if (found.length === 0) return ['-', '-', '-'];
      const ratio = summarize(found.map((f) => f.fd / f.floor));
      const mean = (key: 'fd' | 'floor') => found.reduce((a, f) => a + f[key], 0) / found.length;
      const interval = found.length > 1 ? ` [${fmt(ratio.low, 1)}, ${fmt(ratio.high, 1)}]` : '';
      return [
        `${fmt(mean('fd'))} (${fmt(mean('floor'))})`,
        `${fmt(ratio.mean, 1)}x ± ${fmt(ratio.sd, 1)}${interval}`,
        `${Math.min(...found.map((f) => f.count))}-${Math.max(...found.map((f) => f.count))}`,
      ];
    });
    lines.push(`| ${[id, names[id]].filter((part) => part !== undefined).join(' ')} | ${cells.join(' | ')} |`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

try {
  main();
} catch (error) {
  if (!(error instanceof UserError)) throw error;
  process.stderr.write(`per-class-fd.ts: ${error.message}\n`);
  process.exit(2);
}
