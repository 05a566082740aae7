// Fused kernels for the webgpu backend (names in src/backend/fused-kernels.ts), each few WGSL dispatches where
// tfjs-core composes many: on a GPU most of a DCGAN step's time is per-dispatch overhead, not arithmetic.
//   ReLU / LeakyReLU gradients: 1 dispatch (tfjs-core: Step/Greater, Cast, Multiply, Select: 2 to 4);
//   Adam per variable: 3 (first moment, second moment, update; tfjs-core: 13);
//   batch norm's training pass: 3 (mean, variance, normalize) and its gradient 3 (two channel sums, dx);
//     written out in TF.js ops they take about 12 and 10, tfjs reducing NHWC's channels through a transpose;
//   batch norm's moving statistics: 1 per statistic (3);
//   the loss, sigmoid cross-entropy from logits averaged: 1, and its gradient 1 (about 15 and 20).
// It also replaces the filter gradient of convolutions (Conv2DBackpropFilter), whose stock shader gives one
// thread to each filter element, looping over every image and position: here an im2col gather and the
// backend's own tiled matrix product.
import * as tf from '@tensorflow/tfjs';
import { FUSED, registerFusedGradients } from './fused-kernels.ts';
import { ChannelSumProgram, ElementwiseProgram, IndexedProgram, type Uniforms, type WebgpuProgram, type WebgpuUtil } from './webgpu-programs.ts';

// The few shapes of tfjs-backend-webgpu used here (an optional package: its types may be absent).
interface WebGPUBackend {
  runWebGPUProgram(program: WebgpuProgram, inputs: tf.TensorInfo[], dtype: 'float32', uniforms?: Uniforms): tf.TensorInfo;
  /** One more reference to a tensor's data: how a kernel returns one tensor as two outputs (as Identity does). */
  incRef(dataId: tf.DataId): void;
  disposeData(dataId: tf.DataId): boolean;
}

interface KernelArgs {
  inputs: Record<string, tf.TensorInfo>;
  attrs: tf.NamedAttrMap;
  backend: unknown;
}

type Kernel = (args: KernelArgs, backend: WebGPUBackend) => tf.TensorInfo | tf.TensorInfo[];

/** Registers the fused kernels on the webgpu backend (call after its package is imported); idempotent. */
export function registerWebgpuKernels(webgpuUtil: WebgpuUtil): void {
  if (tf.getKernel(FUSED.reluGrad, 'webgpu')) return;
  const kernel = (kernelName: string, run: Kernel) =>
    tf.registerKernel({
      kernelName,
      backendName: 'webgpu',
      kernelFunc: ((args: KernelArgs) => run(args, args.backend as WebGPUBackend)) as unknown as tf.KernelFunc,
    });
  const elementwise = (name: string, shape: readonly number[], inputs: string[], uniforms: string[], body: string) =>
    new ElementwiseProgram(name, [...shape], inputs, uniforms, body, webgpuUtil);
  const channelSum = (name: string, channels: number, inputs: string[], uniforms: string[], accumulate: string, finish: string) =>
    new ChannelSumProgram(name, channels, inputs, uniforms, accumulate, finish, webgpuUtil);

  kernel(FUSED.reluGrad, ({ inputs: { dy, x } }, backend) =>
    backend.runWebGPUProgram(elementwise('reluGrad', x!.shape, ['dy', 'x'], [], 'let result = select(0.0, dy, x > 0.0);'), [dy!, x!], 'float32'),
  );
  kernel(FUSED.leakyReluGrad, ({ inputs: { dy, x }, attrs }, backend) =>
    backend.runWebGPUProgram(
      elementwise('leakyReluGrad', x!.shape, ['dy', 'x'], ['alpha'], 'let result = select(uniforms.alpha * dy, dy, x > 0.0);'),
      [dy!, x!],
      'float32',
      floats(attrs.alpha as number),
    ),
  );

  kernel(FUSED.adamMoment, ({ inputs: { moment, gradient }, attrs }, backend) => {
    const g = attrs.squared ? 'gradient * gradient' : 'gradient';
    const name = attrs.squared ? 'adamSecondMoment' : 'adamFirstMoment';
    return backend.runWebGPUProgram(
      // 1 - beta from JavaScript's doubles, as tfjs-core's Adam takes it: in f32 on the GPU, 1 - 0.999 is off by 5e-5.
      elementwise(name, moment!.shape, ['moment', 'gradient'], ['beta', 'oneMinusBeta'], `let result = uniforms.beta * moment + uniforms.oneMinusBeta * ${g};`),
      [moment!, gradient!],
      'float32',
      floats(attrs.beta as number, 1 - (attrs.beta as number)),
    );
  });
  kernel(FUSED.adamUpdate, ({ inputs: { value, m, v }, attrs }, backend) =>
    backend.runWebGPUProgram(
      elementwise(
        'adamUpdate',
        value!.shape,
        ['value', 'm', 'v'],
        ['learningRate', 'c1', 'c2', 'epsilon'],
        'let result = value - uniforms.learningRate * (m * uniforms.c1) / (sqrt(v * uniforms.c2) + uniforms.epsilon);',
      ),
      [value!, m!, v!],
      'float32',
      floats(attrs.learningRate as number, attrs.c1 as number, attrs.c2 as number, attrs.epsilon as number),
    ),
  );

  // Batch norm over NHWC's channels (the contract is in fused-kernels.ts). The variance is taken around the
  // mean (a second pass over x), not as E[x^2] - E[x]^2, which loses digits that the cpu backend keeps. The
  // reserves are the mean, the variance and the mean again: the same buffers, referenced once more.
  // x as rows of channels (NHWC: one row per pixel), and the ChannelSumProgram's uniforms for that.
  const channelRows = (x: tf.TensorInfo) => {
    const channels = x.shape[x.shape.length - 1]!;
    const rows = tf.util.sizeFromShape(x.shape) / channels;
    return { channels, rows, uniforms: ints(rows, channels) };
  };
  kernel(FUSED.batchNormTraining, ({ inputs: { x, scale, offset }, attrs }, backend) => {
    const { channels, uniforms } = channelRows(x!);
    const mean = backend.runWebGPUProgram(
      channelSum('bnMean', channels, ['x'], [], 'total = total + x[i];', 'total / f32(uniforms.rows)'),
      [x!],
      'float32',
      uniforms,
    );
    const variance = backend.runWebGPUProgram(
      channelSum('bnVariance', channels, ['x', 'mean'], [], 'let d = x[i] - mean[c]; total = total + d * d;', 'total / f32(uniforms.rows)'),
      [x!, mean],
      'float32',
      uniforms,
    );
    const y = backend.runWebGPUProgram(
      elementwise(
        'bnNormalize',
        x!.shape,
        ['x', 'mean', 'variance', 'scale', 'offset'],
        ['epsilon'],
        'let result = (x - mean) * inverseSqrt(variance + uniforms.epsilon) * scale + offset;',
      ),
      [x!, mean, variance, scale!, offset!],
      'float32',
      floats(attrs.epsilon as number),
    );
    for (const reserve of [mean, variance, mean]) backend.incRef(reserve.dataId);
    return [y, mean, variance, mean, variance, mean];
  });
  kernel(FUSED.batchNormTrainingGrad, ({ inputs: { dy, x, scale, reserve1: mean, reserve2: variance }, attrs }, backend) => {
    const { channels, rows, uniforms } = channelRows(x!);
    const epsilon = attrs.epsilon as number;
    const dOffset = backend.runWebGPUProgram(channelSum('bnSumDy', channels, ['dy'], [], 'total = total + dy[i];', 'total'), [dy!], 'float32', uniforms);
    const dScale = backend.runWebGPUProgram(
      channelSum(
        'bnSumDyXhat',
        channels,
        ['dy', 'x', 'mean', 'variance'],
        ['epsilon'],
        'total = total + dy[i] * (x[i] - mean[c]);',
        'total * inverseSqrt(variance[c] + uniforms.epsilon)',
      ),
      [dy!, x!, mean!, variance!],
      'float32',
      [...uniforms, ...floats(epsilon)],
    );
    const dx = backend.runWebGPUProgram(
      elementwise(
        'bnInputGradient',
        x!.shape,
        ['dy', 'x', 'mean', 'variance', 'scale', 'dOffset', 'dScale'],
        ['epsilon', 'rows'],
        `let invStd = inverseSqrt(variance + uniforms.epsilon);
         let xhat = (x - mean) * invStd;
         let result = scale * invStd * (dy - (dOffset + xhat * dScale) / uniforms.rows);`,
      ),
      [dy!, x!, mean!, variance!, scale!, dOffset, dScale],
      'float32',
      floats(epsilon, rows),
    );
    return [dx, dScale, dOffset];
  });
  kernel(FUSED.movingAverage, ({ inputs: { moving, batch }, attrs }, backend) =>
    backend.runWebGPUProgram(
      elementwise('movingAverage', moving!.shape, ['moving', 'batch'], ['decay'], 'let result = moving - (moving - batch) * uniforms.decay;'),
      [moving!, batch!],
      'float32',
      floats(1 - (attrs.momentum as number)),
    ),
  );

  // The loss as one channel sum over all logits (one "channel"); log(1 + e^-|z|) as tfjs's log1p(exp(-|z|)).
  kernel(FUSED.sigmoidCrossEntropyMean, ({ inputs: { logits }, attrs }, backend) => {
    const loss = backend.runWebGPUProgram(
      channelSum(
        'sigmoidCrossEntropyMean',
        1,
        ['logits'],
        ['label'],
        'let z = logits[i]; total = total + max(z, 0.0) - z * uniforms.label + log(1.0 + exp(-abs(z)));',
        'total / f32(uniforms.rows)',
      ),
      [logits!],
      'float32',
      [...ints(tf.util.sizeFromShape(logits!.shape), 1), ...floats(attrs.label as number)],
    );
    return { ...loss, shape: [] };
  });
  kernel(FUSED.sigmoidCrossEntropyMeanGrad, ({ inputs: { dy, logits }, attrs }, backend) =>
    backend.runWebGPUProgram(
      elementwise(
        'sigmoidCrossEntropyMeanGrad',
        logits!.shape,
        ['dy', 'logits'],
        ['label'],
        'let result = dy * (1.0 / (1.0 + exp(-logits)) - uniforms.label) / f32(uniforms.size);',
      ),
      [dy!, logits!],
      'float32',
      floats(attrs.label as number),
    ),
  );

  registerFilterGradient(webgpuUtil);
  registerFusedGradients();
}

const floats = (...values: number[]): Uniforms => values.map((v) => ({ type: 'float32', data: [v] }));
const ints = (...values: number[]): Uniforms => values.map((v) => ({ type: 'int32', data: [v] }));

/**
 * Conv2DBackpropFilter (NHWC) as a matrix product: dW[K, outC] = im2col(x)^T [K, M] x dy [M, outC], with
 * M = batch * outHeight * outWidth and K = filterHeight * filterWidth * inChannels, the filter's own layout.
 * The gather is one dispatch; the product is the backend's BatchMatMul, which picks its tiled or split-K
 * program by shape. The stock kernel runs for other data formats.
 */
function registerFilterGradient(webgpuUtil: WebgpuUtil): void {
  const stock = tf.getKernel('Conv2DBackpropFilter', 'webgpu')!;
  const matMul = tf.getKernel('BatchMatMul', 'webgpu')!;
  tf.unregisterKernel('Conv2DBackpropFilter', 'webgpu');
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'webgpu',
    kernelFunc: ((args: KernelArgs) => {
      const {
        inputs: { x, dy },
        attrs,
      } = args;
      const backend = args.backend as WebGPUBackend;
      if (attrs.dataFormat !== 'NHWC') return stock.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]);
      const filterShape = attrs.filterShape as [number, number, number, number];
      const conv = tf.backend_util.computeConv2DInfo(
        x!.shape as [number, number, number, number],
        filterShape,
        attrs.strides as [number, number],
        1,
        attrs.pad as 'valid' | 'same' | number,
        attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
      );
      const rows = conv.batchSize * conv.outHeight * conv.outWidth;
      const columns = conv.filterHeight * conv.filterWidth * conv.inChannels;
      const im2col = new IndexedProgram(
        'im2col',
        [rows, columns],
        ['x'],
        [
          'columns : i32',
          'outHeight : i32',
          'outWidth : i32',
          'filterWidth : i32',
          'inHeight : i32',
          'inWidth : i32',
          'inChannels : i32',
          'strideHeight : i32',
          'strideWidth : i32',
          'padTop : i32',
          'padLeft : i32',
        ],
        `let row = index / uniforms.columns;
         let column = index - row * uniforms.columns;
         let image = row / (uniforms.outHeight * uniforms.outWidth);
         let position = row - image * uniforms.outHeight * uniforms.outWidth;
         let outY = position / uniforms.outWidth;
         let outX = position - outY * uniforms.outWidth;
         let tap = column / uniforms.inChannels;
         let channel = column - tap * uniforms.inChannels;
         let filterY = tap / uniforms.filterWidth;
         let filterX = tap - filterY * uniforms.filterWidth;
         let inY = outY * uniforms.strideHeight - uniforms.padTop + filterY;
         let inX = outX * uniforms.strideWidth - uniforms.padLeft + filterX;
         var result = 0.0;
         if (inY >= 0 && inY < uniforms.inHeight && inX >= 0 && inX < uniforms.inWidth) {
           result = x[((image * uniforms.inHeight + inY) * uniforms.inWidth + inX) * uniforms.inChannels + channel];
         }`,
        webgpuUtil,
      );
      const gathered = backend.runWebGPUProgram(
        im2col,
        [x!],
        'float32',
        ints(
          columns,
          conv.outHeight,
          conv.outWidth,
          conv.filterWidth,
          conv.inHeight,
          conv.inWidth,
          conv.inChannels,
          conv.strideHeight,
          conv.strideWidth,
          conv.padInfo.top,
          conv.padInfo.left,
        ),
      );
      const product = matMul.kernelFunc({
        inputs: { a: { ...gathered, shape: [1, rows, columns] }, b: { ...dy!, shape: [1, rows, conv.outChannels] } },
        attrs: { transposeA: true, transposeB: false },
        backend: backend as unknown as tf.KernelBackend,
      }) as tf.TensorInfo;
      backend.disposeData(gathered.dataId);
      return { dataId: product.dataId, shape: filterShape, dtype: 'float32' };
    }) as unknown as tf.KernelFunc,
  });
}
