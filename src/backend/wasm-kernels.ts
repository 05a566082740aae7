// Kernels the WebAssembly backend lacks or runs slowly in a DCGAN training step, registered for 'wasm'
// by `registerWasmGradientKernels` (src/backend/select.ts calls it before the backend starts).
//
// @tensorflow/tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter at all, so any training step through a
// convolution throws "Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'". Its
// Conv2DBackpropInput (the forward pass of conv2dTranspose and the input gradient of conv2d) exists but is
// a scalar seven-deep loop in C++ at about 1.5 GFLOP/s, against 20-30 GFLOP/s for the backend's
// XNNPACK-backed matrix multiply. Both are written here as a layout pass in JavaScript plus that multiply:
//
//   Conv2DBackpropFilter  dW[K, Co]   = im2col(x)[M, K]^T · dy[M, Co]
//   Conv2DBackpropInput   dx          = col2im(dy[M, Co] · W[K, Co]^T)
//
// with M = batch * outHeight * outWidth and K = filterHeight * filterWidth * inChannels, NHWC layout, and
// W the filter [fh, fw, ci, co] viewed as [K, Co]. The wasm BatchMatMul only reaches XNNPACK's GEMM for
// a single, untransposed product, so every transpose is done here while the operands are laid out (the
// kernels write straight into the wasm heap; no tensor is copied through JavaScript arrays).
//
// Batch norm's gradient also needs Tile ([1,1,1,C] -> [N,H,W,C]) and Sum/Mean over N,H,W, which the wasm
// backend runs through generic per-element index loops (Tile) or a full transpose first (Sum, Mean); both
// are replaced by fast paths for those cases and hand every other case to the backend's own kernel.
//
// Everything else a DCGAN step needs (Conv2D and FusedConv2D through XNNPACK, FusedBatchNorm, the
// activation and loss gradients, which tfjs-core composes from elementwise kernels, Adam's kernels) is
// present in the wasm backend and fast, and is left alone.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

const BACKEND = 'wasm';

type Pad = tf.Conv2DBackpropFilterAttrs['pad'];
type RoundingMode = tf.Conv2DBackpropFilterAttrs['dimRoundingMode'];
type DataFormat = tf.Conv2DBackpropFilterAttrs['dataFormat'];

/** Kernels this module registers on the wasm backend (the test and the benchmark iterate over them). */
export const WASM_GRADIENT_KERNELS = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'Tile', 'Sum', 'Mean'] as const;
export type WasmGradientKernel = (typeof WASM_GRADIENT_KERNELS)[number];

/** The wasm backend's own configs that were replaced, kept for delegation and for `unregisterWasmGradientKernels`. */
const replaced = new Map<string, tf.KernelConfig | undefined>();

/**
 * Registers, for the wasm backend, Conv2DBackpropFilter (missing from tfjs-backend-wasm) and faster
 * Conv2DBackpropInput, Tile, Sum and Mean. Call it after importing @tensorflow/tfjs-backend-wasm and before
 * `tf.setBackend('wasm')` (a kernel's setup runs when the backend initialises). `kernels` picks a subset (the
 * benchmark uses it to time the backend's own kernels); a kernel already registered here is left as it is.
 */
export function registerWasmGradientKernels(kernels: readonly WasmGradientKernel[] = WASM_GRADIENT_KERNELS): void {
  if (tf.getKernel('BatchMatMul', BACKEND) === undefined) {
    throw new Error('registerWasmGradientKernels: import @tensorflow/tfjs-backend-wasm first (no wasm BatchMatMul kernel is registered)');
  }
  const funcs: Record<WasmGradientKernel, unknown> = {
    Conv2DBackpropFilter: conv2DBackpropFilter,
    Conv2DBackpropInput: conv2DBackpropInput,
    Tile: tile,
    Sum: reduceLeading('Sum'),
    Mean: reduceLeading('Mean'),
  };
  for (const kernelName of kernels) {
    if (replaced.has(kernelName)) continue;
    install({ kernelName, backendName: BACKEND, kernelFunc: funcs[kernelName] as tf.KernelFunc });
  }
}

/** Restores the wasm backend's own kernels (used by the benchmark to time "before"). */
export function unregisterWasmGradientKernels(): void {
  for (const [name, original] of replaced) {
    tf.unregisterKernel(name, BACKEND);
    if (original) tf.registerKernel(original);
  }
  replaced.clear();
}

function install(config: tf.KernelConfig): void {
  const original = tf.getKernel(config.kernelName, BACKEND);
  if (original) {
    tf.unregisterKernel(config.kernelName, BACKEND);
    // Keep the original's setup (it binds the C++ entry point the NCHW fallback still calls).
    if (original.setupFunc) config = { ...config, setupFunc: original.setupFunc };
  }
  replaced.set(config.kernelName, original);
  tf.registerKernel(config);
}

// ---------------------------------------------------------------------------------------------------------
// Kernels

interface Geometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
  /** batch * outHeight * outWidth: rows of the im2col matrix. */
  m: number;
  /** filterHeight * filterWidth * inChannels: columns of the im2col matrix. */
  k: number;
}

interface FilterArgs {
  inputs: { x: tf.TensorInfo; dy: tf.TensorInfo };
  backend: BackendWasm;
  attrs: tf.Conv2DBackpropFilterAttrs & { dilations?: number | [number, number] };
}

interface InputArgs {
  inputs: { dy: tf.TensorInfo; filter: tf.TensorInfo };
  backend: BackendWasm;
  attrs: tf.Conv2DBackpropInputAttrs & { dilations?: number | [number, number] };
}

/**
 * dW = im2col(x)^T · dy, summed over chunks of rows: XNNPACK's GEMM does not block its inner dimension, so
 * one product over all M = batch * outHeight * outWidth rows runs out of cache (about 9 GFLOP/s against
 * 20-25 in chunks). Each chunk's patches are written already transposed, [K, rows], so that XNNPACK sees an
 * untransposed product whose packed operand is the small dy chunk [rows, Co].
 */
function conv2DBackpropFilter({ inputs, backend, attrs }: FilterArgs): tf.TensorInfo {
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  requireNhwc('Conv2DBackpropFilter', dataFormat);
  requireUnitDilation('Conv2DBackpropFilter', attrs.dilations);
  requireFloat32('Conv2DBackpropFilter', x, dy);
  const g = geometry('Conv2DBackpropFilter', x.shape, filterShape, strides, pad, dimRoundingMode, dy.shape);
  const { m, k, outChannels: co } = g;
  if (m === 0) return zeros(backend, filterShape);
  const chunk = Math.min(m, FILTER_CHUNK_ROWS);
  // x in JavaScript memory followed by one pixel of zeros that padding taps read from, so the patch gather
  // needs no bounds test. Copying it also keeps it valid while the wasm heap grows under the loop.
  const xs = xWithZeroPixel(backend.typedArrayFromHeap(x) as Float32Array, g.inChannels);
  // dW [K, Co], summed over the chunks.
  const acc = chunk === m ? null : new Float32Array(k * co);

  for (let m0 = 0; m0 < m; m0 += chunk) {
    const rows = Math.min(chunk, m - m0);
    const temps: tf.TensorInfo[] = [];
    try {
      const a = backend.makeOutput([k, rows], 'float32'); // im2col(x)[m0 : m0 + rows]^T
      temps.push(a);
      const b = backend.makeOutput([rows, co], 'float32'); // dy[m0 : m0 + rows]
      temps.push(b);
      // Views are taken after every allocation: growing the wasm memory detaches earlier ones.
      (backend.typedArrayFromHeap(b) as Float32Array).set((backend.typedArrayFromHeap(dy) as Float32Array).subarray(m0 * co, (m0 + rows) * co));
      im2colTransposed(xs, g, m0, rows, backend.typedArrayFromHeap(a) as Float32Array);
      const part = matMul(backend, a, b); // [K, Co]
      if (!acc) return { dataId: part.dataId, shape: [...filterShape], dtype: 'float32' };
      temps.push(part);
      const partView = backend.typedArrayFromHeap(part) as Float32Array;
      for (let i = 0; i < acc.length; i++) acc[i] += partView[i];
    } finally {
      for (const t of temps) backend.disposeData(t.dataId);
    }
  }
  const result = backend.makeOutput(filterShape, 'float32');
  (backend.typedArrayFromHeap(result) as Float32Array).set(acc!);
  return result;
}

let xScratch = new Float32Array(0);

/** x copied into a reused buffer, followed by `channels` zeros (the "pixel" every padding tap reads). */
function xWithZeroPixel(x: Float32Array, channels: number): Float32Array {
  const n = x.length + channels;
  if (xScratch.length < n) xScratch = new Float32Array(n);
  const out = xScratch.subarray(0, n);
  out.set(x);
  out.fill(0, x.length);
  return out;
}

/**
 * Rows of the patch matrix per GEMM in Conv2DBackpropFilter (the GEMM's inner dimension). 512 to 4096 run
 * equally fast on the DCGAN layers (one AMD EPYC core, single-threaded wasm), 256 is 5-10% slower and all
 * rows at once 2x slower; 1024 keeps the transposed patch chunk, K * 1024 floats, at 32 MB or less for K <= 8192.
 */
const FILTER_CHUNK_ROWS = 1024;

/** dx = col2im(dy · W^T): one GEMM over every output pixel, then a scatter-add of the patches. */
function conv2DBackpropInput(args: InputArgs): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs;
  requireUnitDilation('Conv2DBackpropInput', attrs.dilations);
  if (tf.backend_util.convertConv2DDataFormat(dataFormat) !== 'channelsLast') {
    // The backend's own kernel handles NCHW (slowly); the GEMM path below is NHWC only.
    if (replaced.get('Conv2DBackpropInput')) return delegate('Conv2DBackpropInput', args);
    requireNhwc('Conv2DBackpropInput', dataFormat);
  }
  requireFloat32('Conv2DBackpropInput', dy, filter);
  const g = geometry('Conv2DBackpropInput', inputShape, filter.shape as FilterShape, strides, pad, dimRoundingMode, dy.shape);
  if (g.m === 0 || g.outChannels === 0) return zeros(backend, inputShape);

  const temps: tf.TensorInfo[] = [];
  try {
    // b = W^T [Co, K]
    const b = backend.makeOutput([g.outChannels, g.k], 'float32');
    temps.push(b);
    transpose(backend.typedArrayFromHeap(filter) as Float32Array, g.k, g.outChannels, backend.typedArrayFromHeap(b) as Float32Array);
    const a: tf.TensorInfo = { dataId: dy.dataId, shape: [g.m, g.outChannels], dtype: 'float32' };
    const cols = matMul(backend, a, b); // [M, K]
    if (im2colIsIdentity(g)) return { dataId: cols.dataId, shape: [...inputShape], dtype: 'float32' };
    temps.push(cols);
    const dx = backend.makeOutput([...inputShape], 'float32');
    col2im(backend.typedArrayFromHeap(cols) as Float32Array, g, backend.typedArrayFromHeap(dx) as Float32Array);
    return dx;
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

interface TileArgs {
  inputs: { x: tf.TensorInfo };
  backend: BackendWasm;
  attrs: { reps: number[] };
}

/**
 * Tile by block copies: the innermost row is copied once and every block is then doubled in place with
 * copyWithin. The backend's own Tile computes a source index per element (about 50 ns each), which made
 * the batch-norm gradient's tile of [1, 1, 1, C] to [N, H, W, C] cost more than the convolutions beside it.
 */
function tile(args: TileArgs): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x } = inputs;
  const { reps } = attrs;
  if (x.dtype === 'string' || x.dtype === 'complex64' || reps.length !== x.shape.length) return delegate('Tile', args);
  const rank = x.shape.length;
  const outShape = x.shape.map((d, i) => d * reps[i]);
  const out = backend.makeOutput(outShape, x.dtype);
  if (tf.util.sizeFromShape(outShape) === 0) return out;
  const src = backend.typedArrayFromHeap(x);
  const dst = backend.typedArrayFromHeap(out);
  if (rank === 0) {
    dst[0] = src[0];
    return out;
  }
  const xStrides = tf.util.computeStrides(x.shape);
  const outStrides = tf.util.computeStrides(outShape);
  const fill = (dim: number, xOff: number, outOff: number): void => {
    let len: number;
    if (dim === rank - 1) {
      len = x.shape[dim];
      dst.set(src.subarray(xOff, xOff + len), outOff);
    } else {
      for (let i = 0; i < x.shape[dim]; i++) fill(dim + 1, xOff + i * xStrides[dim], outOff + i * outStrides[dim]);
      len = x.shape[dim] * outStrides[dim];
    }
    const total = len * reps[dim];
    for (let done = len; done < total;) {
      const n = Math.min(done, total - done);
      dst.copyWithin(outOff + done, outOff, outOff + n);
      done += n;
    }
  };
  fill(0, 0, 0);
  return out;
}

interface ReduceArgs {
  inputs: { x: tf.TensorInfo };
  backend: BackendWasm;
  attrs: { axis: number | number[]; keepDims: boolean };
}

/**
 * Sum / Mean over leading axes (batch norm's and bias gradients' reduction over N, H, W of NHWC) as one pass
 * of row additions, accumulated in float64. The backend's own kernels first transpose the reduced axes to
 * the end, a full copy of the tensor in a slow generic loop. Other reductions go to the backend's kernels.
 */
function reduceLeading(kernelName: 'Sum' | 'Mean') {
  return (args: ReduceArgs): tf.TensorInfo => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs;
    const rank = x.shape.length;
    const axes = [...new Set(tf.util.parseAxisParam(attrs.axis, x.shape))].sort((a, b) => a - b);
    const leading = axes.length > 0 && axes.length < rank && axes.every((a, i) => a === i);
    if (x.dtype !== 'float32' || !leading) return delegate(kernelName, args);
    const outer = tf.util.sizeFromShape(x.shape.slice(0, axes.length));
    const inner = tf.util.sizeFromShape(x.shape.slice(axes.length));
    const outShape = attrs.keepDims ? x.shape.map((d, i) => (i < axes.length ? 1 : d)) : x.shape.slice(axes.length);
    const out = backend.makeOutput(outShape, 'float32');
    const src = backend.typedArrayFromHeap(x) as Float32Array;
    const dst = backend.typedArrayFromHeap(out) as Float32Array;
    const acc = new Float64Array(inner);
    // Four rows per pass: a quarter of the accumulator traffic (about 3x faster than row by row).
    let i = 0;
    let base = 0;
    for (; i + 4 <= outer; i += 4, base += 4 * inner) {
      const b1 = base + inner;
      const b2 = b1 + inner;
      const b3 = b2 + inner;
      for (let j = 0; j < inner; j++) acc[j] += src[base + j] + src[b1 + j] + (src[b2 + j] + src[b3 + j]);
    }
    for (; i < outer; i++, base += inner) {
      for (let j = 0; j < inner; j++) acc[j] += src[base + j];
    }
    const scale = kernelName === 'Mean' ? 1 / outer : 1;
    for (let j = 0; j < inner; j++) dst[j] = outer === 0 ? (kernelName === 'Mean' ? NaN : 0) : acc[j] * scale;
    return out;
  };
}

/** Runs the wasm backend's own kernel that `install` replaced. */
function delegate(kernelName: string, args: { inputs: object; backend: BackendWasm; attrs: object }): tf.TensorInfo {
  const original = replaced.get(kernelName);
  if (!original) throw new Error(`wasm ${kernelName}: this case needs the backend's own kernel, which is not registered`);
  return original.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
}

function zeros(backend: BackendWasm, shape: readonly number[]): tf.TensorInfo {
  const out = backend.makeOutput([...shape], 'float32');
  (backend.typedArrayFromHeap(out) as Float32Array).fill(0);
  return out;
}

/** [rows, inner] · [inner, cols] through the wasm backend's BatchMatMul (XNNPACK when nothing is transposed). */
function matMul(backend: BackendWasm, a: tf.TensorInfo, b: tf.TensorInfo): tf.TensorInfo {
  const kernel = tf.getKernel('BatchMatMul', BACKEND);
  if (!kernel) throw new Error('wasm BatchMatMul kernel is not registered');
  const out = kernel.kernelFunc({ inputs: { a, b }, backend, attrs: { transposeA: false, transposeB: false } });
  return out as tf.TensorInfo;
}

// ---------------------------------------------------------------------------------------------------------
// Geometry and checks

type FilterShape = [number, number, number, number];

function geometry(
  kernel: string,
  inShape: readonly number[],
  filterShape: FilterShape,
  strides: [number, number] | number,
  pad: Pad,
  dimRoundingMode: RoundingMode,
  dyShape: readonly number[],
): Geometry {
  if (inShape.length !== 4 || filterShape.length !== 4 || dyShape.length !== 4) {
    throw new Error(`wasm ${kernel}: expected rank-4 input, filter and dy; got [${inShape}], [${filterShape}], [${dyShape}]`);
  }
  const info = tf.backend_util.computeConv2DInfo(inShape as FilterShape, filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  if (info.outShape.some((d, i) => d !== dyShape[i])) {
    throw new Error(`wasm ${kernel}: dy has shape [${dyShape}] but the convolution's output is [${info.outShape}]`);
  }
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
    m: info.batchSize * info.outHeight * info.outWidth,
    k: info.filterHeight * info.filterWidth * info.inChannels,
  };
}

function requireNhwc(kernel: string, dataFormat: DataFormat): void {
  if (tf.backend_util.convertConv2DDataFormat(dataFormat) !== 'channelsLast') {
    throw new Error(`wasm ${kernel} supports only dataFormat 'NHWC' (got '${dataFormat}'), as the wasm Conv2D does`);
  }
}

function requireUnitDilation(kernel: string, dilations: number | [number, number] | undefined): void {
  if (dilations === undefined) return;
  const [dh, dw] = typeof dilations === 'number' ? [dilations, dilations] : dilations;
  if (dh !== 1 || dw !== 1) {
    throw new Error(`wasm ${kernel} supports only dilations 1 (got [${dh}, ${dw}]); tfjs has no dilated convolution gradients`);
  }
}

function requireFloat32(kernel: string, ...tensors: tf.TensorInfo[]): void {
  for (const t of tensors) {
    if (t.dtype !== 'float32') throw new Error(`wasm ${kernel} supports only float32 tensors (got ${t.dtype})`);
  }
}

/** True when im2col(x) is x viewed as [M, K]: a 1x1 stride-1 convolution, or one window covering the whole unpadded input. */
function im2colIsIdentity(g: Geometry): boolean {
  if (g.padTop !== 0 || g.padLeft !== 0) return false;
  const pointwise =
    g.filterHeight === 1 && g.filterWidth === 1 && g.strideHeight === 1 && g.strideWidth === 1 && g.outHeight === g.inHeight && g.outWidth === g.inWidth;
  const whole = g.outHeight === 1 && g.outWidth === 1 && g.filterHeight === g.inHeight && g.filterWidth === g.inWidth;
  return pointwise || whole;
}

// ---------------------------------------------------------------------------------------------------------
// Layout passes (NHWC). Row m = (b, oh, ow) of the patch matrix, column k = (fh, fw, ci).

/**
 * cols[k, r] = im2col(x)[m0 + r, k] for r in [0, rows): the patch matrix of rows m0.. written transposed,
 * eight output pixels at a time (contiguous writes, reads from eight cached rows of x). `xs` is x followed
 * by one pixel of zeros (xWithZeroPixel), which taps that fall in the padding read.
 */
function im2colTransposed(xs: Float32Array, g: Geometry, m0: number, rows: number, cols: Float32Array): void {
  const { inHeight, inWidth, inChannels: ci, outHeight, outWidth, filterHeight, filterWidth } = g;
  const { strideHeight, strideWidth, padTop, padLeft } = g;
  const zero = xs.length - ci;
  // Source offset of each row's pixel for the current tap, padded to a multiple of eight with `zero`.
  const padded = Math.ceil(rows / 8) * 8;
  const src = new Int32Array(padded).fill(zero);
  for (let fh = 0; fh < filterHeight; fh++) {
    for (let fw = 0; fw < filterWidth; fw++) {
      let ow = m0 % outWidth;
      let oh = Math.floor(m0 / outWidth) % outHeight;
      let b = Math.floor(m0 / (outWidth * outHeight));
      for (let r = 0; r < rows; r++) {
        const ih = oh * strideHeight - padTop + fh;
        const iw = ow * strideWidth - padLeft + fw;
        src[r] = ih < 0 || ih >= inHeight || iw < 0 || iw >= inWidth ? zero : ((b * inHeight + ih) * inWidth + iw) * ci;
        if (++ow === outWidth) {
          ow = 0;
          if (++oh === outHeight) {
            oh = 0;
            b++;
          }
        }
      }
      const tap = (fh * filterWidth + fw) * ci;
      for (let r0 = 0; r0 < padded; r0 += 8) {
        const s0 = src[r0],
          s1 = src[r0 + 1],
          s2 = src[r0 + 2],
          s3 = src[r0 + 3];
        const s4 = src[r0 + 4],
          s5 = src[r0 + 5],
          s6 = src[r0 + 6],
          s7 = src[r0 + 7];
        if (r0 + 8 <= rows) {
          for (let c = 0; c < ci; c++) {
            const d = (tap + c) * rows + r0;
            cols[d] = xs[s0 + c];
            cols[d + 1] = xs[s1 + c];
            cols[d + 2] = xs[s2 + c];
            cols[d + 3] = xs[s3 + c];
            cols[d + 4] = xs[s4 + c];
            cols[d + 5] = xs[s5 + c];
            cols[d + 6] = xs[s6 + c];
            cols[d + 7] = xs[s7 + c];
          }
        } else {
          for (let c = 0; c < ci; c++) {
            const d = (tap + c) * rows;
            for (let r = r0; r < rows; r++) cols[d + r] = xs[src[r] + c];
          }
        }
      }
    }
  }
}

/** dx[b, oh*sh - padTop + fh, ow*sw - padLeft + fw, ci] += cols[m, k] over every in-bounds tap (dx is zeroed first). */
function col2im(cols: Float32Array, g: Geometry, dx: Float32Array): void {
  const { batch, inHeight, inWidth, inChannels: ci, outHeight, outWidth, filterHeight, filterWidth } = g;
  const { strideHeight, strideWidth, padTop, padLeft, k } = g;
  dx.fill(0);
  const rowLen = filterWidth * ci;
  const xRow = inWidth * ci;
  const xImage = inHeight * xRow;
  let src = 0;
  for (let b = 0; b < batch; b++) {
    const xb = b * xImage;
    for (let oh = 0; oh < outHeight; oh++) {
      const ih0 = oh * strideHeight - padTop;
      for (let ow = 0; ow < outWidth; ow++) {
        const iw0 = ow * strideWidth - padLeft;
        const fwLo = iw0 < 0 ? -iw0 : 0;
        const fwHi = Math.min(filterWidth, inWidth - iw0);
        for (let fh = 0; fh < filterHeight; fh++) {
          const ih = ih0 + fh;
          if (ih < 0 || ih >= inHeight || fwHi <= fwLo) continue;
          let at = src + fh * rowLen + fwLo * ci;
          let to = xb + ih * xRow + (iw0 + fwLo) * ci;
          const end = to + (fwHi - fwLo) * ci;
          // Unrolled by four: about 1.5x faster than the plain loop in V8.
          for (; to + 4 <= end; to += 4, at += 4) {
            dx[to] += cols[at];
            dx[to + 1] += cols[at + 1];
            dx[to + 2] += cols[at + 2];
            dx[to + 3] += cols[at + 3];
          }
          for (; to < end; to++, at++) dx[to] += cols[at];
        }
        src += k;
      }
    }
  }
}

/** out[c, r] = a[r, c] for a [rows, cols] row-major, in cache-sized tiles. */
function transpose(a: Float32Array, rows: number, cols: number, out: Float32Array): void {
  if (rows === 1 || cols === 1) {
    out.set(a.subarray(0, rows * cols));
    return;
  }
  const T = 32;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(rows, r0 + T);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(cols, c0 + T);
      for (let r = r0; r < r1; r++) {
        const row = r * cols;
        for (let c = c0; c < c1; c++) out[c * rows + r] = a[row + c];
      }
    }
  }
}
