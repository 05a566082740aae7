import type { Experiment } from './experiment.generated.ts';
import type { Diagnostic } from './diagnostics.ts';
import type { Origins } from './origins.ts';
import { setAt, toPointer } from './pointer.ts';
import { keysAt, schemasAt } from './schema.ts';
import { didYouMean } from './schema-messages.ts';
import { checkConfig } from './check.ts';

const NOT_SWEEPABLE = new Set(['sweep', 'extends', '$schema']);

/** Sweep paths must name real keys, and every value must make a valid experiment. */
export function sweepDiagnostics(config: Experiment, origins: Origins): Diagnostic[] {
  const { sweep } = config;
  if (!sweep) return [];
  const diagnostics: Diagnostic[] = [];
  const badPath = (path: string, pointer: string): boolean => {
    const segments = path.split('.');
    if (NOT_SWEEPABLE.has(segments[0])) {
      diagnostics.push({
        origin: origins.ofKey(pointer),
        message: `sweep path "${path}" cannot be swept: ${segments[0]} is not an experiment setting (sweep paths name keys such as train.epochs)`,
      });
      return true;
    }
    if (schemasAt(segments).length > 0) return false;
    // Name the first segment that leads nowhere, with a suggestion from the keys that exist there.
    const bad = segments.findIndex((_, i) => schemasAt(segments.slice(0, i + 1)).length === 0);
    const parent = segments.slice(0, bad);
    const where = parent.length ? `in ${parent.join('.')}` : 'at the top level';
    const hint = `: there is no "${segments[bad]}" ${where}${didYouMean(segments[bad], keysAt(parent))}`;
    diagnostics.push({ origin: origins.ofKey(pointer), message: `sweep path "${path}" does not name a config key${hint}` });
    return true;
  };

  const linkedTo = new Map<string, string[]>();
  (sweep.link ?? []).forEach((group, groupIndex) => {
    group.forEach((path, index) => badPath(path, toPointer(['sweep', 'link', String(groupIndex), String(index)])));
    const [leader, ...followers] = group;
    if (!(leader in sweep.parameters)) {
      diagnostics.push({
        origin: origins.ofValue(toPointer(['sweep', 'link', String(groupIndex), '0'])),
        message: `sweep.link[${groupIndex}] starts with "${leader}", which is not in sweep.parameters: the first path of a link gives the values`,
      });
    }
    for (const follower of followers) {
      if (follower in sweep.parameters) {
        diagnostics.push({
          origin: origins.ofValue(toPointer(['sweep', 'link', String(groupIndex), String(group.indexOf(follower))])),
          message: `sweep.link[${groupIndex}]: "${follower}" also has its own values in sweep.parameters; a linked path takes the first path's values`,
        });
      }
    }
    linkedTo.set(leader, followers);
  });

  if (sweep.strategy === 'random' && sweep.trials === undefined) {
    diagnostics.push({ origin: origins.ofKey(toPointer(['sweep', 'strategy'])), message: 'sweep.strategy random needs sweep.trials, the number of draws' });
  }

  for (const [path, spec] of Object.entries(sweep.parameters)) {
    const pointer = toPointer(['sweep', 'parameters', path]);
    if (badPath(path, pointer)) continue;
    const targets = [path, ...(linkedTo.get(path) ?? [])].map((p) => p.split('.'));
    const tryValue = (value: unknown, at: string, label: string) => {
      const trial = structuredClone(config) as unknown as Record<string, unknown>;
      delete trial.sweep;
      for (const target of targets) setAt(trial, target, structuredClone(value));
      for (const problem of checkConfig(trial, origins)) {
        diagnostics.push({ origin: origins.ofValue(at), message: `sweep ${label} ${JSON.stringify(value)} for ${path}: ${problem.message}` });
      }
    };
    if (Array.isArray(spec)) {
      spec.forEach((value, index) => tryValue(value, toPointer(['sweep', 'parameters', path, String(index)]), 'value'));
      continue;
    }
    if (sweep.strategy !== 'random') {
      diagnostics.push({ origin: origins.ofValue(pointer), message: `sweep.parameters.${path}: distributions need sweep.strategy random; grid takes a list of values` });
      continue;
    }
    if (!(spec.min < spec.max)) {
      diagnostics.push({ origin: origins.ofValue(`${pointer}/max`), message: `sweep.parameters.${path}: max ${spec.max} must be greater than min ${spec.min}` });
      continue;
    }
    if (spec.distribution === 'logUniform' && spec.min <= 0) {
      diagnostics.push({ origin: origins.ofValue(`${pointer}/min`), message: `sweep.parameters.${path}: logUniform needs min > 0, got ${spec.min}` });
      continue;
    }
    tryValue(spec.min, `${pointer}/min`, 'min');
    tryValue(spec.max, `${pointer}/max`, 'max');
  }
  return diagnostics;
}
