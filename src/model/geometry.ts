// Spatial plan shared by both networks: the generator grows 1 -> startSize -> startSize * 2^blocks,
// the discriminator shrinks the image back down the same ladder.
import type { Discriminator, Generator } from '../config/experiment.generated.ts';

/** The side after the generator's first block: imageSize / 2^blocks when that is an integer >= 1, else null. */
export function startSize(imageSize: number, blocks: number): number | null {
  const size = imageSize / 2 ** blocks;
  return Number.isInteger(size) && size >= 1 ? size : null;
}

/** Output channels of each generator block, first to last: explicit `channels`, or baseChannels * 2^(blocks-1-i). */
export function generatorChannels(g: Pick<Generator, 'blocks' | 'baseChannels' | 'channels'>): number[] {
  if (g.channels) return [...g.channels];
  return Array.from({ length: g.blocks }, (_, i) => g.baseChannels * 2 ** (g.blocks - 1 - i));
}

/** Output channels of each discriminator block, first to last: explicit `channels`, or baseChannels * 2^i. */
export function discriminatorChannels(d: Pick<Discriminator, 'blocks' | 'baseChannels' | 'channels'>): number[] {
  if (d.channels) return [...d.channels];
  return Array.from({ length: d.blocks }, (_, i) => d.baseChannels * 2 ** i);
}
