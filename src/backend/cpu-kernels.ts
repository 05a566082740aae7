// tfjs-backend-cpu 4.22's ResizeNearestNeighborGrad reads dy at the images' batch offset rather than dy's, so in a
// batch of more than one image every image but the first gets part of another image's gradient (the 2x upsampling
// of model.generator.upsample: nearest trained on the cpu backend would learn from wrong gradients). The gradient
// of a nearest-neighbour resize is the scatter-add of dy onto the pixels the forward pass read; it is written here
// with the forward kernel's own index rule, and registered for 'cpu' by `registerCpuKernels`
// (src/backend/select.ts). The tensorflow, wasm and webgpu backends compute it correctly.
import * as tf from '@tensorflow/tfjs';

const BACKEND = 'cpu';
let registered = false;

interface CpuBackend {
  data: { get(id: tf.DataId): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
}

export function registerCpuKernels(): void {
  if (registered) return;
  if (tf.getKernel(tf.ResizeNearestNeighborGrad, BACKEND)) tf.unregisterKernel(tf.ResizeNearestNeighborGrad, BACKEND);
  tf.registerKernel({ kernelName: tf.ResizeNearestNeighborGrad, backendName: BACKEND, kernelFunc: resizeNearestNeighborGrad as unknown as tf.KernelFunc });
  registered = true;
}

/** The source index the forward ResizeNearestNeighbor reads for output index `at` (tfjs-backend-cpu's rule). */
function nearestSource(at: number, inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean): number {
  const ratio = alignCorners && outSize > 1 ? (inSize - 1) / (outSize - 1) : inSize / outSize;
  const fraction = halfPixelCenters ? ratio * (at + 0.5) : ratio * at;
  const index = Math.min(inSize - 1, alignCorners ? Math.round(fraction) : Math.floor(fraction));
  return halfPixelCenters ? Math.max(0, index) : index;
}

function resizeNearestNeighborGrad(args: {
  inputs: { images: tf.TensorInfo; dy: tf.TensorInfo };
  backend: CpuBackend;
  attrs: { alignCorners: boolean; halfPixelCenters: boolean };
}): tf.TensorInfo {
  const { images, dy } = args.inputs;
  const { alignCorners, halfPixelCenters } = args.attrs;
  const [batch, inHeight, inWidth, channels] = images.shape as [number, number, number, number];
  const [, outHeight, outWidth] = dy.shape as [number, number, number, number];
  const dyValues = args.backend.data.get(dy.dataId).values;
  const dx = new Float32Array(batch * inHeight * inWidth * channels);
  const sourceRows = Array.from({ length: outHeight }, (_, y) => nearestSource(y, inHeight, outHeight, alignCorners, halfPixelCenters));
  const sourceCols = Array.from({ length: outWidth }, (_, x) => nearestSource(x, inWidth, outWidth, alignCorners, halfPixelCenters));
  let read = 0;
  for (let b = 0; b < batch; b++) {
    for (let y = 0; y < outHeight; y++) {
      const row = (b * inHeight + sourceRows[y]!) * inWidth;
      for (let x = 0; x < outWidth; x++) {
        const at = (row + sourceCols[x]!) * channels;
        for (let c = 0; c < channels; c++) dx[at + c] += dyValues[read++]!;
      }
    }
  }
  return args.backend.makeTensorInfo(images.shape, images.dtype, dx);
}
