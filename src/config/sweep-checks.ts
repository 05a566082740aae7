import type { Experiment, Sweep } from './experiment.generated.ts';
import type { Diagnostic } from './diagnostics.ts';
import type { Origins } from './origins.ts';
import { isReservedKey, reservedKeyMessage, toPointer } from './pointer.ts';
import { keysAt, schemasAt } from './schema.ts';
import { didYouMean } from './schema-messages.ts';
import { checkConfig } from './check.ts';
import { countTrials, sweepAssignments, trialConfig } from './sweep-expand.ts';

const NOT_SWEEPABLE = new Set(['sweep', 'extends', '$schema']);

/** How many distinct problems of whole trials are listed; the rest are counted. */
const TRIAL_PROBLEMS_SHOWN = 5;

/**
 * Sweep paths must name real keys, the sweep must stay within sweep.maxTrials, and every trial's config must
 * be valid: values that are valid one by one can be invalid together.
 */
export function sweepDiagnostics(config: Experiment, origins: Origins): Diagnostic[] {
  const { sweep } = config;
  if (!sweep) return [];
  const diagnostics: Diagnostic[] = [];
  const badPath = (path: string, pointer: string): boolean => {
    const segments = path.split('.');
    const reserved = segments.find(isReservedKey);
    if (reserved !== undefined) {
      diagnostics.push({ origin: origins.ofKey(pointer), message: `sweep path "${path}": ${reservedKeyMessage(reserved)}` });
      return true;
    }
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

  // What the trials are checked with: the parameters and links that are sound themselves.
  const checkable: Sweep = { ...sweep, parameters: {}, link: [] };
  let structural = false;
  const problem = (diagnostic: Diagnostic) => {
    diagnostics.push(diagnostic);
    structural = true;
  };

  (sweep.link ?? []).forEach((group, groupIndex) => {
    // Every path is checked (and reported), not only up to the first bad one.
    let sound = group.filter((path, index) => badPath(path, toPointer(['sweep', 'link', String(groupIndex), String(index)]))).length === 0;
    const [leader, ...followers] = group;
    if (!(leader in sweep.parameters)) {
      sound = false;
      diagnostics.push({
        origin: origins.ofValue(toPointer(['sweep', 'link', String(groupIndex), '0'])),
        message: `sweep.link[${groupIndex}] starts with "${leader}", which is not in sweep.parameters: the first path of a link gives the values`,
      });
    }
    for (const follower of followers) {
      if (follower in sweep.parameters) {
        sound = false;
        diagnostics.push({
          origin: origins.ofValue(toPointer(['sweep', 'link', String(groupIndex), String(group.indexOf(follower))])),
          message: `sweep.link[${groupIndex}]: "${follower}" also has its own values in sweep.parameters; a linked path takes the first path's values`,
        });
      }
    }
    if (sound) checkable.link!.push(group);
  });

  if (sweep.strategy !== 'grid' && sweep.trials === undefined) {
    problem({
      origin: origins.ofKey(toPointer(['sweep', 'strategy'])),
      message: `sweep.strategy ${sweep.strategy} needs sweep.trials, the number of ${sweep.strategy === 'random' ? 'draws' : 'trials'}`,
    });
  }
  diagnostics.push(...objectiveDiagnostics(config, origins));

  const alone = valueProblems(config, checkable, origins);
  for (const [path, spec] of Object.entries(sweep.parameters)) {
    const pointer = toPointer(['sweep', 'parameters', path]);
    if (badPath(path, pointer)) continue;
    if (Array.isArray(spec)) {
      checkable.parameters[path] = spec;
      continue;
    }
    if (sweep.strategy === 'grid') {
      problem({
        origin: origins.ofValue(pointer),
        message: `sweep.parameters.${path}: distributions need sweep.strategy random or tpe; grid takes a list of values`,
      });
    } else if (!(spec.min < spec.max)) {
      problem({ origin: origins.ofValue(`${pointer}/max`), message: `sweep.parameters.${path}: max ${spec.max} must be greater than min ${spec.min}` });
    } else if (spec.distribution === 'logUniform' && spec.min <= 0) {
      problem({ origin: origins.ofValue(`${pointer}/min`), message: `sweep.parameters.${path}: logUniform needs min > 0, got ${spec.min}` });
    } else {
      // Draws land anywhere in the range: both ends must be valid on their own.
      for (const end of ['min', 'max'] as const) {
        for (const message of alone(path, spec[end])) {
          problem({ origin: origins.ofValue(`${pointer}/${end}`), message: `sweep ${end} ${JSON.stringify(spec[end])} for ${path}: ${message}` });
        }
      }
      checkable.parameters[path] = spec;
    }
  }

  const count = countTrials(sweep);
  if (count > sweep.maxTrials) {
    const lengths = Object.values(sweep.parameters).flatMap((spec) => (Array.isArray(spec) ? [spec.length] : []));
    const made =
      sweep.strategy !== 'grid' ? `sweep.trials is ${count}` : `the grid makes ${count.toLocaleString('en-US')} trials (${lengths.join(' x ')} values)`;
    problem({
      origin: origins.ofKey(toPointer(['sweep', sweep.strategy !== 'grid' ? 'trials' : 'parameters'])),
      message: `${made}, more than sweep.maxTrials (${sweep.maxTrials}): sweep fewer values, or raise sweep.maxTrials to run them all`,
    });
  }
  if (!structural && Object.keys(checkable.parameters).length > 0) diagnostics.push(...trialDiagnostics(config, checkable, origins, alone));
  return diagnostics;
}

/** The problems of one swept value alone on the base config, by path and value (computed once each). */
function valueProblems(config: Experiment, sweep: Sweep, origins: Origins): (path: string, value: unknown) => string[] {
  const memo = new Map<string, string[]>();
  return (path, value) => {
    const key = `${path}=${JSON.stringify(value)}`;
    let messages = memo.get(key);
    if (!messages) {
      messages = checkConfig(trialConfig(config, sweep, { [path]: value }), origins).map((d) => d.message);
      memo.set(key, messages);
    }
    return messages;
  };
}

/**
 * Validates every trial's config. A problem that one listed value has on its own is reported at that value;
 * a problem of a combination names the first trial that has it, and how many more do.
 */
function trialDiagnostics(config: Experiment, sweep: Sweep, origins: Origins, alone: (path: string, value: unknown) => string[]): Diagnostic[] {
  const count = countTrials(sweep);
  const byValue = new Map<string, Diagnostic>();
  const combinations = new Map<string, { trial: string; more: number }>();
  let index = 0;
  for (const values of sweepAssignments(sweep, config.seed)) {
    for (const { message } of checkConfig(trialConfig(config, sweep, values), origins)) {
      const culprit = Object.entries(values).find(([path, value]) => Array.isArray(sweep.parameters[path]) && alone(path, value).includes(message));
      if (culprit) {
        const [path, value] = culprit;
        const at = toPointer(['sweep', 'parameters', path, String((sweep.parameters[path] as unknown[]).indexOf(value))]);
        byValue.set(`${at} ${message}`, { origin: origins.ofValue(at), message: `sweep value ${JSON.stringify(value)} for ${path}: ${message}` });
        continue;
      }
      const seen = combinations.get(message);
      if (seen) seen.more += 1;
      else
        combinations.set(message, {
          trial: `sweep trial ${index} of ${count} (${Object.entries(values)
            .map(([path, value]) => `${path}=${JSON.stringify(value)}`)
            .join(', ')})`,
          more: 0,
        });
    }
    index += 1;
  }
  const at = origins.ofKey(toPointer(['sweep', 'parameters']));
  const listed = [...combinations].slice(0, TRIAL_PROBLEMS_SHOWN).map(([message, { trial, more }]) => ({
    origin: at,
    message: `${trial}: ${message}${more > 0 ? ` (and ${more} more trial${more === 1 ? '' : 's'})` : ''}`,
  }));
  const unlisted = [...combinations.values()].slice(TRIAL_PROBLEMS_SHOWN).reduce((sum, { more }) => sum + more + 1, 0);
  if (unlisted > 0) listed.push({ origin: at, message: `sweep: ${unlisted} more problem${unlisted === 1 ? '' : 's'} of trials not shown` });
  return [...byValue.values(), ...listed];
}

/** The metric families each train.eval.metrics entry produces (src/eval/metrics.ts). */
const METRIC_FAMILIES: Record<string, string[]> = {
  patches: ['swd', 'precision', 'recall'],
  classifier: ['fd', 'kid', 'kid_std', 'precision', 'recall', 'class_share'],
};

/** tpe and earlyStop compare trials by sweep.objective, a metric train.eval must produce. */
function objectiveDiagnostics(config: Experiment, origins: Origins): Diagnostic[] {
  const { sweep } = config;
  const { objective } = sweep!;
  const needing = [sweep!.strategy === 'tpe' ? 'sweep.strategy tpe' : undefined, sweep!.earlyStop ? 'sweep.earlyStop' : undefined].filter(Boolean);
  if (!objective) {
    return needing.map((what) => ({
      origin: origins.ofKey(toPointer(what === 'sweep.earlyStop' ? ['sweep', 'earlyStop'] : ['sweep', 'strategy'])),
      message: `${what} needs sweep.objective, the quality metric trials are compared by: { metric: swd/patch7/n<samples>/avg, mode: min } for example`,
    }));
  }
  const at = origins.ofValue(toPointer(['sweep', 'objective', 'metric']));
  const evaluation = config.train.eval;
  if (!evaluation)
    return [
      {
        origin: at,
        message: `sweep.objective ${objective.metric} needs train.eval, which computes the quality metrics (e.g. train.eval: { metrics: [patches] })`,
      },
    ];
  const family = objective.metric.split('/')[0];
  const produced = evaluation.metrics.flatMap((kind) => METRIC_FAMILIES[kind] ?? []);
  if (!produced.includes(family)) {
    return [
      {
        origin: at,
        message: `sweep.objective.metric ${objective.metric}: train.eval.metrics [${evaluation.metrics.join(', ')}] produces no ${family}/ metric; it produces ${[...new Set(produced)].map((f) => `${f}/...`).join(', ')}`,
      },
    ];
  }
  const sampleSize = /\/n(\d+)(\/|$)/.exec(objective.metric)?.[1];
  if (sampleSize !== undefined && Number(sampleSize) !== evaluation.samples) {
    return [
      {
        origin: at,
        message: `sweep.objective.metric ${objective.metric} is at n${sampleSize}, but train.eval.samples is ${evaluation.samples}: the metric is named .../n${evaluation.samples}/...`,
      },
    ];
  }
  return [];
}
