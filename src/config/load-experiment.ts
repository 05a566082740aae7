import type { Experiment } from './experiment.generated.ts';
import { ConfigError, type Diagnostic } from './diagnostics.ts';
import { composeConfig, type ComposedConfig } from './load.ts';
import { checkConfig } from './check.ts';
import { sweepDiagnostics } from './sweep-checks.ts';

export interface LoadedExperiment {
  config: Experiment;
  composed: ComposedConfig;
}

/** Reads, composes and validates an experiment file; throws a ConfigError listing every problem. */
export function loadExperiment(file: string, overrides: readonly string[] = []): LoadedExperiment {
  const composed = composeConfig(file, overrides);
  const diagnostics = checkConfig(composed.value, composed.origins);
  if (diagnostics.length === 0) diagnostics.push(...sweepDiagnostics(composed.value as unknown as Experiment, composed.origins));
  if (diagnostics.length > 0) throw new ConfigError(sortDiagnostics(diagnostics));
  return { config: composed.value as unknown as Experiment, composed };
}

function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  const rank = (d: Diagnostic) => (d.origin.kind === 'file' ? [d.origin.file, d.origin.line, d.origin.col] : ['~', 0, 0]);
  return [...diagnostics].sort((a, b) => {
    const [fa, la, ca] = rank(a);
    const [fb, lb, cb] = rank(b);
    return String(fa).localeCompare(String(fb)) || Number(la) - Number(lb) || Number(ca) - Number(cb);
  });
}
