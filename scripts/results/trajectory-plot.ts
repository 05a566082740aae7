// A trajectory's plot: each arm's mean over its seeds at every epoch, one line per arm.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lineChartPng } from '../../src/render/loss-plot.ts';
import { summarize } from '../../src/stats/tests.ts';
import type { Arms } from './arms.ts';
import type { Trial } from './trials.ts';

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

/** Legends have room for about 14 characters: the values without keys and braces, cut there. */
const legendLabel = (arm: string) => {
  const short = arm.replace(/[{}]/g, '').replace(/\w+:/g, '').replace(/,\s*/g, ' ').trim();
  return short.length > 14 ? `${short.slice(0, 13)}…` : short;
};

/** Writes dir/trajectory-<name>.png and returns its path; `at` is a trial's value at an epoch (NaN for none). */
export async function writeTrajectoryPlot(dir: string, name: string, arms: Arms, lastEpoch: number, at: (t: Trial, epoch: number) => number): Promise<string> {
  mkdirSync(dir, { recursive: true });
  // One point per epoch 1..last (NaN where there is no value), so the x axis counts epochs.
  const series = arms.names.map((arm, i) => ({
    label: legendLabel(arm),
    colour: PALETTE[i % PALETTE.length]!,
    values: Array.from({ length: lastEpoch }, (_, e) => {
      const values = arms.values(arm, (t) => at(t, e + 1));
      return values.length ? summarize(values).mean : NaN;
    }),
  }));
  const file = join(dir, `trajectory-${name.replace(/[^\w.-]+/g, '_')}.png`);
  writeFileSync(file, await lineChartPng(series, { x: 'epoch', y: name }, { width: 800, height: 420 }));
  return file;
}
