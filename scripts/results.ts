// Tables for docs/results.md from a finished sweep: per group of a swept key (seeds pooled), the mean and
// spread of the final losses and of the last quality evaluation, and the per-trial rows. Markdown on stdout;
// with --grids DIR, each trial's last sample grid and loss plot are copied there.
//
//   node --import tsx scripts/results.ts <sweep-dir> --group model.discriminator.activation [--metrics swd,recall] [--grids docs/results/ablation]
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { SweepManifest } from '../src/track/sweep-manifest.ts';
import { readLossRecords, readMetrics } from '../src/track/run-dir.ts';

const { values: options, positionals } = parseArgs({
  allowPositionals: true,
  options: { group: { type: 'string' }, metrics: { type: 'string', default: '' }, floors: { type: 'string', default: '' }, grids: { type: 'string' } },
});
const sweepDir = positionals[0];
if (!sweepDir || !options.group) throw new Error('usage: results.ts <sweep-dir> --group <swept key> [--metrics a,b] [--grids DIR]');
const manifest = JSON.parse(readFileSync(join(sweepDir, 'manifest.json'), 'utf8')) as SweepManifest;
const wanted = options.metrics.split(',').filter(Boolean);
// Metrics whose real-vs-real value differs per trial (each class has its own real sample): shown as a column.
const floors = options.floors.split(',').filter(Boolean);

const label = (value: unknown) => (typeof value === 'object' ? JSON.stringify(value).replace(/"/g, '').replace(/,/g, ', ') : String(value));
const stats = (xs: number[]) => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return `${mean.toFixed(3)} ± ${std.toFixed(3)}`;
};

interface Row {
  group: string;
  trial: string;
  values: Record<string, number>;
}
const rows: Row[] = [];
for (const trial of manifest.trials) {
  if (trial.status !== 'finished' || !trial.runDir) continue;
  const epochs = readLossRecords(trial.runDir).filter((r) => r.type === 'epoch');
  const last = epochs[epochs.length - 1];
  const evaluation = readMetrics(trial.runDir).findLast((r) => r.type === 'eval');
  const quality = evaluation?.type === 'eval' ? evaluation.values : {};
  const summaryName = (name: string) => !/\/r\d+$|\/c\d+$/.test(name);
  const picked = Object.fromEntries([
    ...Object.entries(quality).filter(([name]) => wanted.some((w) => name.startsWith(`${w}/`)) && summaryName(name)),
    ...Object.entries(quality)
      .filter(([name]) => floors.some((w) => name.startsWith(`real_vs_real/${w}/`)) && summaryName(name))
      .map(([name, value]) => [name.replace('real_vs_real/', 'floor '), value]),
  ]);
  rows.push({
    group: label(trial.values[options.group]),
    trial: trial.name,
    values: { lossD: last.lossD, lossG: last.lossG, dReal: last.dReal, dFake: last.dFake, ...picked },
  });
  if (options.grids) {
    mkdirSync(options.grids, { recursive: true });
    const samples = readdirSync(join(trial.runDir, 'samples')).sort();
    copyFileSync(join(trial.runDir, 'samples', samples[samples.length - 1]), join(options.grids, `${trial.name}.png`));
    copyFileSync(join(trial.runDir, 'losses.png'), join(options.grids, `${trial.name}-losses.png`));
  }
}
const columns = [...new Set(rows.flatMap((r) => Object.keys(r.values)))];
const groups = [...new Set(rows.map((r) => r.group))];
const out: string[] = [];
out.push(`| ${options.group} | trials | ${columns.join(' | ')} |`, `|---|---|${columns.map(() => '---').join('|')}|`);
for (const group of groups) {
  const members = rows.filter((r) => r.group === group);
  out.push(`| ${group} | ${members.length} | ${columns.map((c) => stats(members.map((m) => m.values[c]).filter(Number.isFinite))).join(' | ')} |`);
}
out.push('', `| trial | ${columns.join(' | ')} |`, `|---|${columns.map(() => '---').join('|')}|`);
for (const row of rows) out.push(`| ${row.trial} | ${columns.map((c) => (row.values[c] ?? NaN).toFixed(3)).join(' | ')} |`);
// The real-vs-real floor of the first trial: the same for every trial of the sweep (same real samples).
const first = manifest.trials.find((t) => t.status === 'finished' && t.runDir);
const floor = first && readMetrics(first.runDir!).findLast((r) => r.type === 'eval');
if (floor?.type === 'eval') {
  const baseline = Object.entries(floor.values).filter(
    ([name]) => name.startsWith('real_vs_real/') && wanted.some((w) => name.startsWith(`real_vs_real/${w}/`)) && !/\/r\d+$|\/c\d+$/.test(name),
  );
  out.push(
    '',
    `Real-vs-real baseline (two disjoint real samples): ${baseline.map(([n, v]) => `${n.replace('real_vs_real/', '')} = ${v.toFixed(3)}`).join(', ')}`,
  );
}
process.stdout.write(`${out.join('\n')}\n`);
