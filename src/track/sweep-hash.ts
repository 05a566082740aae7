import { createHash } from 'node:crypto';
import type { Experiment } from '../config/experiment.generated.ts';
import { canonicalJson } from '../io/canonical-json.ts';

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
