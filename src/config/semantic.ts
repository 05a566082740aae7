import type { Experiment, Transform } from './experiment.generated.ts';
import type { Diagnostic } from './diagnostics.ts';
import type { Origins } from './origins.ts';
import { toPointer } from './pointer.ts';
import { startSize } from '../model/geometry.ts';
import { misplacedTransform } from '../data/plan.ts';
import { isLabeled, knownImageSize, sourceChannels, sourceClasses } from '../data/source.ts';

/** Checks that the schema cannot express: geometry, list lengths, channel counts. Each points at the key to change. */
export function semanticDiagnostics(config: Experiment, origins: Origins): Diagnostic[] {
  return [...geometry(config, origins), ...channelLists(config, origins), ...transforms(config, origins), ...evaluation(config, origins)];
}

function geometry(config: Experiment, origins: Origins): Diagnostic[] {
  const { imageSize } = config.model;
  const diagnostics: Diagnostic[] = [];
  for (const net of ['generator', 'discriminator'] as const) {
    const { blocks } = config.model[net];
    if (startSize(imageSize, blocks) !== null) continue;
    const workable = Array.from({ length: 10 }, (_, i) => i + 1).filter((b) => startSize(imageSize, b) !== null);
    const hint = workable.length
      ? ` (block counts that work for ${imageSize}: ${workable.map((b) => `${b}, from ${imageSize / 2 ** b}x${imageSize / 2 ** b}`).join('; ')})`
      : ` (${imageSize} is odd: no block count works; use an even image size such as 28, 32 or 64)`;
    // Point at what the user wrote: the block count if they set it, else the image size.
    const blocksPointer = toPointer(['model', net, 'blocks']);
    const written = origins.values.has(blocksPointer) ? blocksPointer : toPointer(['model', 'imageSize']);
    diagnostics.push({
      origin: origins.ofValue(written),
      message: `model.imageSize ${imageSize} must equal startSize * 2^blocks with an integer startSize >= 1, but model.${net}.blocks ${blocks} gives ${imageSize} / ${2 ** blocks} = ${+(imageSize / 2 ** blocks).toFixed(3)}${hint}`,
    });
  }
  return diagnostics;
}

function channelLists(config: Experiment, origins: Origins): Diagnostic[] {
  return (['generator', 'discriminator'] as const).flatMap((net) => {
    const { channels, blocks } = config.model[net];
    if (!channels || channels.length === blocks) return [];
    return [
      {
        origin: origins.ofValue(toPointer(['model', net, 'channels'])),
        message: `model.${net}.channels lists ${plural(channels.length, 'value')} but model.${net}.blocks is ${blocks}: give one channel count per block`,
      },
    ];
  });
}

/** Channels and size as the transforms change them; size is unknown for an image folder until a resize or crop. */
function transforms(config: Experiment, origins: Origins): Diagnostic[] {
  const { data, model } = config;
  const diagnostics: Diagnostic[] = [];
  let channels = sourceChannels(data.source);
  // A named dataset's images have a known size; a user's files are measured only when loaded.
  let size: [number, number] | undefined = knownImageSize(data.source);
  let sizeSetAt = -1;
  data.transforms.forEach((transform: Transform, index) => {
    const at = (...path: string[]) => origins.ofValue(toPointer(['data', 'transforms', String(index), ...path]));
    switch (transform.kind) {
      case 'flatten':
        channels = 3;
        break;
      case 'grayscale':
        channels = 1;
        break;
      case 'resize':
        size = transform.size;
        sizeSetAt = index;
        break;
      case 'centerCrop':
      case 'randomCrop':
        if (size && (transform.size[0] > size[0] || transform.size[1] > size[1])) {
          diagnostics.push({
            origin: at('size'),
            message: `data.transforms[${index}] crops ${transform.size.join('x')} out of ${size.join('x')} images: the crop must fit inside the image`,
          });
        }
        size = transform.size;
        sizeSetAt = index;
        break;
      case 'normalize':
        for (const key of ['mean', 'std'] as const) {
          if (transform[key].length !== channels) {
            diagnostics.push({
              origin: at(key),
              message: `data.transforms[${index}].${key} has ${plural(transform[key].length, 'value')} but the images have ${plural(channels, 'channel')} at this point: give one value per channel`,
            });
          }
        }
        break;
      case 'randomHorizontalFlip':
        break;
    }
  });
  const misplaced = misplacedTransform(data.transforms);
  if (misplaced) diagnostics.push({ origin: origins.ofValue(toPointer(['data', 'transforms', String(misplaced.index), 'kind'])), message: misplaced.message });
  const final = size as [number, number] | undefined;
  if (final && (final[0] !== model.imageSize || final[1] !== model.imageSize) && sizeSetAt === -1) {
    diagnostics.push({
      origin: origins.ofValue(toPointer(['data', 'source', 'kind'])),
      message: `data.source (${data.source.kind}) has ${final.join('x')} images but model.imageSize is ${model.imageSize}: add a resize (and crop) to data.transforms that gives [${model.imageSize}, ${model.imageSize}]`,
    });
  } else if (final && (final[0] !== model.imageSize || final[1] !== model.imageSize)) {
    diagnostics.push({
      origin: origins.ofValue(toPointer(['data', 'transforms', String(sizeSetAt), 'size'])),
      message: `data.transforms[${sizeSetAt}] makes ${final.join('x')} images but model.imageSize is ${model.imageSize}: the last resize or crop must give [${model.imageSize}, ${model.imageSize}]`,
    });
  }
  return diagnostics;
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

/** Quality metrics need what they measure with: a classifier needs labeled IDX data; keepBest needs its metric. */
function evaluation(config: Experiment, origins: Origins): Diagnostic[] {
  const { eval: evaluation, checkpoint } = config.train;
  const { source } = config.data;
  const diagnostics: Diagnostic[] = [];
  const metricsAt = origins.ofValue(toPointer(['train', 'eval', 'metrics']));
  if (evaluation?.metrics.includes('classifier') && !isLabeled(source)) {
    diagnostics.push({ origin: metricsAt, message: 'train.eval.metrics: classifier needs a labelled data source: fashionMnist, mnist, or idx with labels (the classifier is trained on its training split); use patches for image folders' });
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
