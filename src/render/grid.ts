import sharp from 'sharp';
import type { Experiment } from '../config/experiment.generated.ts';

export interface PixelScale {
  /** Per channel: pixel = (value * std + mean) * 255, the inverse of the config's normalize transform. */
  mean: number[];
  std: number[];
}

/** Lays `count` NHWC images out in a grid of `columns`, 2px gaps, as a PNG. */
export async function imageGridPng(
  values: Float32Array,
  shape: { count: number; height: number; width: number; channels: number },
  scale: PixelScale,
  columns = Math.ceil(Math.sqrt(shape.count)),
): Promise<Buffer> {
  const { count, height, width, channels } = shape;
  const gap = 2;
  const rows = Math.ceil(count / columns);
  const gridWidth = columns * width + (columns + 1) * gap;
  const gridHeight = rows * height + (rows + 1) * gap;
  const grid = Buffer.alloc(gridWidth * gridHeight * channels, 255);
  for (let n = 0; n < count; n++) {
    const top = gap + Math.floor(n / columns) * (height + gap);
    const left = gap + (n % columns) * (width + gap);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        for (let c = 0; c < channels; c++) {
          const value = values[((n * height + y) * width + x) * channels + c];
          const pixel = (value * scale.std[c] + scale.mean[c]) * 255;
          grid[((top + y) * gridWidth + left + x) * channels + c] = Math.max(0, Math.min(255, Math.round(pixel)));
        }
      }
    }
  }
  return sharp(grid, { raw: { width: gridWidth, height: gridHeight, channels: channels as 1 | 3 } })
    .png()
    .toBuffer();
}

/** Undoes the config's normalize transform for display; without one, pixels are taken as [0, 1]. */
export function pixelScale(config: Experiment, channels: number): PixelScale {
  const normalize = config.data.transforms.findLast((t) => t.kind === 'normalize');
  if (normalize?.kind === 'normalize') return { mean: [...normalize.mean], std: [...normalize.std] };
  return { mean: Array(channels).fill(0), std: Array(channels).fill(1) };
}
