// Spatial plan shared by both networks: the generator grows 1 -> startSize -> startSize * 2^blocks,
// the discriminator shrinks the image back down the same ladder.
import type { Discriminator, Generator, Model } from '../config/experiment.generated.ts';
import { plural, type PlanProblem } from './problem.ts';

export type NetworkName = 'generator' | 'discriminator';

/** One network's ladder: startSize null when imageSize is not startSize * 2^blocks; channels per block, first to last. */
export interface NetworkGeometry {
  startSize: number | null;
  channels: number[];
}

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

export function networkGeometry(model: Model, net: NetworkName): NetworkGeometry {
  const settings = model[net];
  const channels = net === 'generator' ? generatorChannels(model.generator) : discriminatorChannels(model.discriminator);
  return { startSize: startSize(model.imageSize, settings.blocks), channels };
}

/** Block counts that do not fit imageSize, then channel lists whose length is not the block count. */
export function geometryProblems(model: Model): PlanProblem[] {
  const nets = ['generator', 'discriminator'] as const;
  return [...nets.flatMap((net) => blocksProblem(model, net)), ...nets.flatMap((net) => channelsProblem(model, net))];
}

function blocksProblem(model: Model, net: NetworkName): PlanProblem[] {
  const { imageSize } = model;
  const { blocks } = model[net];
  if (startSize(imageSize, blocks) !== null) return [];
  const workable = Array.from({ length: 10 }, (_, i) => i + 1).filter((b) => startSize(imageSize, b) !== null);
  const hint = workable.length
    ? ` (block counts that work for ${imageSize}: ${workable.map((b) => `${b}, from ${imageSize / 2 ** b}x${imageSize / 2 ** b}`).join('; ')})`
    : ` (${imageSize} is odd: no block count works; use an even image size such as 28, 32 or 64)`;
  return [
    {
      // The block count if the user set it, else the image size.
      path: ['model', net, 'blocks'],
      fallback: ['model', 'imageSize'],
      message: `model.imageSize ${imageSize} must equal startSize * 2^blocks with an integer startSize >= 1, but model.${net}.blocks ${blocks} gives ${imageSize} / ${2 ** blocks} = ${+(imageSize / 2 ** blocks).toFixed(3)}${hint}`,
    },
  ];
}

function channelsProblem(model: Model, net: NetworkName): PlanProblem[] {
  const { channels, blocks } = model[net];
  if (!channels || channels.length === blocks) return [];
  return [
    {
      path: ['model', net, 'channels'],
      message: `model.${net}.channels lists ${plural(channels.length, 'value')} but model.${net}.blocks is ${blocks}: give one channel count per block`,
    },
  ];
}
