/** The decoded training images, before the per-batch (random and normalize) transforms. */
export interface ImageDataset {
  count: number;
  height: number;
  width: number;
  channels: 1 | 3;
  /** count*height*width*channels bytes, NHWC, after the cached deterministic transforms, before normalize. */
  pixels: Uint8Array;
  /** Label ids, one per image: IDX sources with a labels file. */
  labels?: Uint8Array;
  /** Files left out under onBadImage: skip. */
  skipped: string[];
  /** One line for logs, e.g. "1352 images from /data/pokemon (imageFolder), 64x64x3". */
  description: string;
  fromCache: boolean;
}

export type { Shape } from '../plan/data-shape.ts';

/** One image in the cached stage: 8-bit, interleaved, with an alpha channel last when `alpha` is set. */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  /** Colour channels, not counting alpha: 1 or 3. */
  channels: 1 | 3;
  alpha: boolean;
}
