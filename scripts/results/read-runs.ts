// Trials from sweep directories (their finished trials) and run directories (`[label=]dir`).
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { getAt } from '../../src/config/pointer.ts';
import { UserError } from '../../src/errors.ts';
import type { MetricRecord } from '../../src/track/run-types.ts';
import { readMetrics, readRunConfig, readRunSummary } from '../../src/track/run-dir.ts';
import { MANIFEST, SweepDirectory } from '../../src/track/sweep-manifest.ts';
import { compactLosses, compactMetrics, type EpochRow, type Trial } from './trials.ts';

export interface ReadTrials {
  trials: Trial[];
  /** Sweep trials left out, with their status: "name (failed)". */
  excluded: string[];
}

/** `groupKeys` not among a trial's swept values are read from its config. */
export function readRunTrials(args: string[], groupKeys: string[]): ReadTrials {
  const trials: Trial[] = [];
  const excluded: string[] = [];
  for (const arg of args) {
    const [label, dir] = !existsSync(arg) && arg.includes('=') ? (arg.split(/=(.*)/s, 2) as [string, string]) : [undefined, arg];
    if (existsSync(join(dir, MANIFEST))) {
      for (const t of SweepDirectory.open(dir).manifest.trials) {
        if (t.status !== 'finished' || !t.runDir) {
          excluded.push(`${t.name} (${t.status})`);
          continue;
        }
        trials.push(trialFromRun(t.name, t.runDir, t.status, t.values, groupKeys));
      }
    } else if (existsSync(join(dir, 'config.yaml'))) {
      // Runs under one label are one arm: the run folder tells them apart.
      const name = label === undefined ? basename(dir) : `${label} (${basename(dir)})`;
      trials.push(trialFromRun(name, dir, readRunSummary(dir).status, label === undefined ? {} : { label }, groupKeys));
    } else {
      throw new UserError(`${dir}: neither a sweep directory (manifest.json) nor a run directory (config.yaml)`);
    }
  }
  // Trials of several sweeps can share a name: the run folder tells them apart (the raw data is keyed by name).
  const counts = new Map<string, number>();
  for (const t of trials) counts.set(t.trial, (counts.get(t.trial) ?? 0) + 1);
  for (const t of trials) if (counts.get(t.trial)! > 1) t.trial = `${t.trial} (${basename(t.runDir!)})`;
  return { trials, excluded };
}

function trialFromRun(name: string, runDir: string, status: string, swept: Record<string, unknown>, groupKeys: string[]): Trial {
  const config = readRunConfig(runDir);
  const params: Record<string, unknown> = { ...swept };
  for (const key of groupKeys) if (!(key in params)) params[key] = getAt(config, key.split('.')) ?? null;
  const byEpoch = new Map<number, EpochRow>();
  const rowAt = (epoch: number) => {
    if (!byEpoch.has(epoch)) byEpoch.set(epoch, { epoch, step: null, losses: null, metrics: null });
    return byEpoch.get(epoch)!;
  };
  let lastStep: MetricRecord | undefined;
  for (const record of readMetrics(runDir)) {
    if (record.type === 'step') lastStep = record;
    if (record.type === 'epoch') {
      const row = rowAt(record.epoch);
      row.step = record.step;
      row.losses = compactLosses(record);
    }
    if (record.type === 'eval') {
      const row = rowAt(record.epoch);
      row.metrics = compactMetrics(record.values);
      row.step ??= lastStep?.step ?? null;
    }
  }
  const rows = [...byEpoch.values()].sort((a, b) => a.epoch - b.epoch);
  return { trial: name, status, params, seed: config.seed, source: config.data.source.kind, runDir, rows };
}
