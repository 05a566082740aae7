import type { Experiment } from './experiment.generated.ts';
import type { Diagnostic } from './diagnostics.ts';
import type { Origins } from './origins.ts';
import { toPointer } from './pointer.ts';
import { planExperiment } from '../plan/index.ts';
import { isLabeled, sourceClasses } from '../plan/source.ts';

/** Checks that the schema cannot express: geometry, list lengths, channel counts. Each points at the key to change. */
export function semanticDiagnostics(config: Experiment, origins: Origins): Diagnostic[] {
  return [...planDiagnostics(config, origins), ...evaluation(config, origins)];
}

/** The planner's problems, each pointed at the key it names (or at its fallback when the user left that key to its default). */
function planDiagnostics(config: Experiment, origins: Origins): Diagnostic[] {
  return planExperiment(config).problems.map(({ path, fallback, message }) => {
    const pointer = toPointer(path);
    const written = fallback && !origins.values.has(pointer) ? toPointer(fallback) : pointer;
    return { origin: origins.ofValue(written), message };
  });
}

export const CLASSIFIER_NEEDS_LABELS =
  'train.eval.metrics: classifier needs a labelled data source: fashionMnist, mnist, or idx with labels (the classifier is trained on its training split); use patches for image folders';
export const PER_CLASS_NEEDS_CLASSIFIER = "train.eval.metrics: perClass is measured on the classifier's features: add classifier";

/** Quality metrics need what they measure with: a classifier needs labeled IDX data; keepBest needs its metric. */
function evaluation(config: Experiment, origins: Origins): Diagnostic[] {
  const { eval: evaluation, checkpoint } = config.train;
  const { source } = config.data;
  const diagnostics: Diagnostic[] = [];
  const metricsAt = origins.ofValue(toPointer(['train', 'eval', 'metrics']));
  if (evaluation?.metrics.includes('classifier') && !isLabeled(source)) {
    diagnostics.push({
      origin: metricsAt,
      message: CLASSIFIER_NEEDS_LABELS,
    });
  }
  if (evaluation?.metrics.includes('perClass') && !evaluation.metrics.includes('classifier')) {
    diagnostics.push({
      origin: origins.ofValue(toPointer(['train', 'eval', 'metrics', String(evaluation.metrics.indexOf('perClass'))])),
      message: PER_CLASS_NEEDS_CLASSIFIER,
    });
  }
  const best = checkpoint.keepBest;
  if (best === false) return diagnostics;
  const at = origins.ofValue(toPointer(['train', 'checkpoint', 'keepBest']));
  if (!evaluation) {
    diagnostics.push({ origin: at, message: `train.checkpoint.keepBest ${best} needs train.eval, which computes the metric` });
  } else if (best !== 'swd' && !evaluation.metrics.includes('classifier')) {
    diagnostics.push({ origin: at, message: `train.checkpoint.keepBest ${best} is a classifier metric: add classifier to train.eval.metrics` });
  } else if (best === 'swd' && !evaluation.metrics.includes('patches')) {
    diagnostics.push({ origin: at, message: 'train.checkpoint.keepBest swd is a patch metric: add patches to train.eval.metrics' });
  }
  if (best === 'classShare' && !sourceClasses(source)) {
    diagnostics.push({ origin: at, message: 'train.checkpoint.keepBest classShare needs data.source.classes, the classes the generator should draw' });
  }
  return diagnostics;
}
