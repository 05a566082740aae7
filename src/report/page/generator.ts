// The run's generator in the page: a checkpoint from models/<id>.js loaded into TF.js, fed the same seeded
// noise as `dcgan-run sample` (src/random/rng.ts), its images drawn pixel for pixel as the sample grids are.
import * as tf from '@tensorflow/tfjs';
import '../../model/layers.ts';
import '../../model/spectral-norm.ts';
import { deriveSeed, Rng } from '../../random/rng.ts';
import type { PixelScale } from '../../render/grid.ts';
import { MODELS_GLOBAL, type EmbeddedModel, type ModelChoice } from '../report-data.ts';
import { loadScript } from './dom.ts';

declare global {
  interface Window {
    [MODELS_GLOBAL]?: Record<string, EmbeddedModel>;
  }
}

/** The fastest backend the browser has (WebGL, else plain JavaScript), or the one named by ?backend= in the URL. */
export async function chooseBackend(): Promise<string> {
  const asked = new URLSearchParams(location.search).get('backend');
  for (const name of asked ? [asked] : ['webgl', 'cpu']) {
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return name;
      }
    } catch {
      // Not in this browser: the next one.
    }
  }
  throw new Error(`no TF.js backend of ${asked ?? 'webgl, cpu'} initialises in this browser`);
}

const loaded = new Map<string, Promise<tf.LayersModel>>();

export function loadGenerator(choice: ModelChoice): Promise<tf.LayersModel> {
  let model = loaded.get(choice.id);
  if (!model) {
    model = loadScript(choice.script).then(() => {
      const embedded = window[MODELS_GLOBAL]![choice.id];
      const bytes = Uint8Array.from(atob(embedded.weightsBase64), (c) => c.charCodeAt(0));
      return tf.loadLayersModel(
        tf.io.fromMemory({
          modelTopology: embedded.modelTopology,
          weightSpecs: embedded.weightSpecs as tf.io.WeightsManifestEntry[],
          weightData: bytes.buffer,
        }),
      );
    });
    loaded.set(choice.id, model);
  }
  return model;
}

/** The latent vectors `dcgan-run sample --seed seed` draws: `count` rows of `latentDim`. */
export function sampleNoise(seed: number, count: number, latentDim: number): Float32Array {
  return new Rng(deriveSeed(seed, 'samples')).normals(count * latentDim);
}

/** Spherical interpolation from a to b in `frames` steps, ends included: the path Gaussian latents keep their norm on. */
export function slerpPath(a: Float32Array, b: Float32Array, frames: number): Float32Array {
  const norm = (v: Float32Array) => Math.hypot(...v);
  const cos = a.reduce((sum, x, i) => sum + x * b[i], 0) / (norm(a) * norm(b));
  const omega = Math.acos(Math.min(1, Math.max(-1, cos)));
  const out = new Float32Array(frames * a.length);
  for (let f = 0; f < frames; f++) {
    const t = f / (frames - 1);
    // Nearly parallel vectors: the straight line is the same path, without dividing by sin(0).
    const [wa, wb] = omega < 1e-6 ? [1 - t, t] : [Math.sin((1 - t) * omega) / Math.sin(omega), Math.sin(t * omega) / Math.sin(omega)];
    for (let i = 0; i < a.length; i++) out[f * a.length + i] = wa * a[i] + wb * b[i];
  }
  return out;
}

export interface Images {
  count: number;
  height: number;
  width: number;
  channels: number;
  values: Float32Array;
}

/** The generator's images for these latent rows (NHWC, in the model's range). */
export async function generate(model: tf.LayersModel, noise: Float32Array, latentDim: number): Promise<Images> {
  const z = tf.tensor2d(noise, [noise.length / latentDim, latentDim]);
  const images = model.predict(z) as tf.Tensor4D;
  const [count, height, width, channels] = images.shape;
  const values = (await images.data()) as Float32Array;
  tf.dispose([z, images]);
  return { count, height, width, channels, values };
}

/** Image `n` on a canvas of its own size, each pixel (value * std + mean) * 255 rounded, as src/render/grid.ts writes grids. */
export function drawImage(images: Images, n: number, scale: PixelScale): HTMLCanvasElement {
  const { height, width, channels, values } = images;
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d')!;
  const pixels = context.createImageData(width, height);
  for (let p = 0; p < height * width; p++) {
    for (let c = 0; c < 3; c++) {
      const channel = channels === 1 ? 0 : c;
      const value = values[(n * height * width + p) * channels + channel];
      pixels.data[p * 4 + c] = Math.max(0, Math.min(255, Math.round((value * scale.std[channel] + scale.mean[channel]) * 255)));
    }
    pixels.data[p * 4 + 3] = 255;
  }
  context.putImageData(pixels, 0, 0);
  return canvas;
}
