// What a data.source holds, known from the config alone (nothing is read).
import type { Data, IdxSource, ImageFolderSource } from '../config/experiment.generated.ts';
import { findIdxDataset, type IdxDataset } from '../datasets/catalog.ts';

export type Source = Data['source'];
export type FileSource = ImageFolderSource | IdxSource;

/** The catalog entry of a fashionMnist or mnist source. */
export function namedIdx(source: Source): IdxDataset | undefined {
  return source.kind === 'fashionMnist' || source.kind === 'mnist' ? findIdxDataset(source.kind) : undefined;
}

/** Channels of the decoded images: IDX data is gray; image folders are read as RGB (as torchvision's ImageFolder). */
export function sourceChannels(source: Source): 1 | 3 {
  return source.kind === 'idx' || namedIdx(source) ? 1 : 3;
}

/** [height, width] of every image, where the source fixes it; undefined for a user's own files. */
export function knownImageSize(source: Source): [number, number] | undefined {
  if (namedIdx(source)) return [28, 28];
  return source.kind === 'pokemonSprites' ? [56, 68] : undefined;
}

/** Whether every image has a class label (what the classifier metrics need). */
export function isLabeled(source: Source): boolean {
  return namedIdx(source) !== undefined || (source.kind === 'idx' && source.labels !== undefined);
}

/** The label ids the source keeps, when it filters by class. */
export function sourceClasses(source: Source): number[] | undefined {
  return source.kind === 'idx' || source.kind === 'fashionMnist' || source.kind === 'mnist' ? source.classes : undefined;
}
