import { createHash } from 'node:crypto';
import type { Experiment } from '../config/experiment.generated.ts';

/** JSON with object keys sorted: the same value written with its keys in another order gives the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * What a trial's result depends on: its config without `tracking` (where the run is recorded, local folder or
 * MLflow server, changes nothing it computes, so a sweep can be resumed with tracking switched on or off).
 */
export function hashedPart(config: Experiment): Record<string, unknown> {
  const { tracking: _tracking, ...rest } = config as Experiment & Record<string, unknown>;
  return rest;
}

export const trialConfigHash = (config: Experiment): string => sha256(canonicalJson(hashedPart(config)));

/** The sweep definition's hash: the expanded trials, in order, by name and config hash. */
export const definitionHash = (trials: readonly { name: string; configHash: string }[]): string =>
  sha256(canonicalJson(trials.map(({ name, configHash }) => [name, configHash])));
