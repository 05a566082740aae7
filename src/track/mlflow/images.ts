import { randomUUID } from 'node:crypto';
import sharp from 'sharp';

/**
 * Mirrors MlflowClient.log_image(image, key=..., step=..., timestamp=...) of MLflow 3.17
 * (mlflow/tracking/client.py, mlflow/tracking/multimedia.py), whose file names the UI's
 * image view parses: images/<key>+step+<step>+timestamp+<ms>+<uuid>.png plus a
 * "+compressed.webp" preview, and the run tag mlflow.loggedImages.
 */
export const LOGGED_IMAGES_TAG = 'mlflow.loggedImages';
/** Python logs str(True). */
export const LOGGED_IMAGES_TAG_VALUE = 'True';
/** multimedia.COMPRESSED_IMAGE_SIZE: the longer side of the preview (small images are scaled up). */
export const COMPRESSED_IMAGE_SIZE = 256;
/** Pillow's WebP default quality, which log_image relies on. */
export const COMPRESSED_IMAGE_QUALITY = 80;

const KEY_PATTERN = /^[a-zA-Z0-9_\-./ ]+$/;

export interface ImageArtifact {
  /** Relative to the run's artifact root. */
  path: string;
  bytes: Buffer;
  contentType: string;
}

export interface LoggedImage {
  key: string;
  step?: number;
  /** Epoch ms; defaults to now. */
  timestamp?: number;
  /** PNG-encoded image. */
  png: Uint8Array;
  /** Fixed only in tests. */
  uuid?: string;
}

export function validateImageKey(key: string): void {
  if (!KEY_PATTERN.test(key)) {
    throw new Error(`Invalid image key '${key}': it may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), and slashes (/)`);
  }
}

/** The path stem shared by both files; "/" in the key becomes "~" so it stays one file name (the UI maps it back). */
export function imageArtifactStem(key: string, step: number, timestamp: number, uuid: string): string {
  validateImageKey(key);
  return `images/${key.replace(/\//g, '~')}+step+${step}+timestamp+${timestamp}+${uuid}`;
}

/** Pillow's compress_image_size: fit the longer side to `max`, truncating the other. */
export function previewSize(width: number, height: number, max = COMPRESSED_IMAGE_SIZE): { width: number; height: number } {
  if (width > height) return { width: max, height: Math.max(1, Math.trunc(height * (max / width))) };
  return { width: Math.max(1, Math.trunc(width * (max / height))), height: max };
}

/** The two files log_image uploads, in the order it uploads them. */
export async function imageArtifacts(image: LoggedImage): Promise<ImageArtifact[]> {
  const step = image.step ?? 0;
  const timestamp = image.timestamp ?? Date.now();
  if (!Number.isSafeInteger(step)) throw new Error(`Image step must be an integer, got ${step}`);
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new Error(`Image timestamp must be epoch ms, got ${timestamp}`);
  const stem = imageArtifactStem(image.key, step, timestamp, image.uuid ?? randomUUID());

  const png = Buffer.from(image.png);
  const meta = await sharp(png).metadata();
  if (meta.format !== 'png' || !meta.width || !meta.height) {
    throw new Error(`Image '${image.key}' must be PNG bytes (got ${meta.format ?? 'unknown format'})`);
  }
  const size = previewSize(meta.width, meta.height);
  // Pillow's resize() defaults to bicubic; sharp's to lanczos3.
  const webp = await sharp(png).resize(size.width, size.height, { fit: 'fill', kernel: 'cubic' }).webp({ quality: COMPRESSED_IMAGE_QUALITY }).toBuffer();

  return [
    { path: `${stem}.png`, bytes: png, contentType: 'image/png' },
    { path: `${stem}+compressed.webp`, bytes: webp, contentType: 'image/webp' },
  ];
}
