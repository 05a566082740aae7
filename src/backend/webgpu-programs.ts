// The three shapes of WGSL program that src/backend/webgpu-kernels.ts registers, in the form that
// tfjs-backend-webgpu compiles: it declares each input as a storage array named as its variable, the uniforms
// in `uniforms` (after its own: shapes, strides, `size` the output's element count), `result` the output
// array with setOutputAtIndex, then appends `getUserCode()` and calls `main` once per invocation.

/** Values for a program's own uniforms, in the order they are declared. */
export type Uniforms = { type: 'float32' | 'int32'; data: number[] }[];

/** tfjs-backend-webgpu's `webgpu_util`. */
export interface WebgpuUtil {
  flatDispatchLayout(shape: number[]): { x: number[] };
  computeDispatch(layout: { x: number[] }, shape: number[], workgroup: [number, number, number]): [number, number, number];
}

/** Uniform declarations from names: `alpha` is an f32, `rows : i32` says its type. */
const declare = (uniforms: string[]) => uniforms.map((u) => (u.includes(':') ? `${u},` : `${u} : f32,`)).join('');

/**
 * One invocation per output element, `index` its flat index: `code` computes `result`, reading inputs by
 * index from their arrays (for gathers such as im2col).
 */
export class IndexedProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  workgroupSize: [number, number, number] = [128, 1, 1];
  size = true;
  uniforms?: string;

  constructor(
    name: string,
    shape: number[],
    variableNames: string[],
    uniforms: string[],
    private readonly code: string,
    webgpuUtil: WebgpuUtil,
  ) {
    this.outputShape = shape;
    this.variableNames = variableNames;
    this.shaderKey = `dcgan_${name}`;
    if (uniforms.length > 0) this.uniforms = declare(uniforms);
    this.dispatchLayout = webgpuUtil.flatDispatchLayout(shape);
    this.dispatch = webgpuUtil.computeDispatch(this.dispatchLayout, shape, this.workgroupSize);
  }

  getUserCode(): string {
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${this.code}
          setOutputAtIndex(index, result);
        }
      }`;
  }
}

/**
 * Elementwise over `variableNames`: each name in `code` is that input's value at the output's index (an input
 * of shape [C] broadcasts over a channels-last output, a scalar over everything).
 */
export class ElementwiseProgram extends IndexedProgram {
  constructor(name: string, shape: number[], variableNames: string[], uniforms: string[], code: string, webgpuUtil: WebgpuUtil) {
    const reads = variableNames.map((v) => `let ${v} = get${v[0]!.toUpperCase()}${v.slice(1)}ByOutputIndex(index);`).join('\n');
    super(name, shape, variableNames, uniforms, `${reads}\n${code}`, webgpuUtil);
  }
}

/** Threads per channel in a ChannelSumProgram: a power of two. */
const CHANNEL_SUM_THREADS = 256;

/**
 * Per channel of a channels-last tensor of `uniforms.rows` rows of `uniforms.channels` values: `finish` of the
 * sum over rows of what `accumulate` adds to `total` (element index i, channel c). One workgroup per channel,
 * its threads striding over the rows, then a tree sum in workgroup memory: no transpose, one dispatch.
 * Uniform values: rows, channels, then the f32s named in `uniforms`.
 */
export class ChannelSumProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  workgroupSize: [number, number, number] = [CHANNEL_SUM_THREADS, 1, 1];
  uniforms: string;

  constructor(
    name: string,
    channels: number,
    variableNames: string[],
    uniforms: string[],
    private readonly accumulate: string,
    private readonly finish: string,
    webgpuUtil: WebgpuUtil,
  ) {
    this.outputShape = [channels];
    this.variableNames = variableNames;
    this.shaderKey = `dcgan_${name}`;
    this.uniforms = declare(['rows : i32', 'channels : i32', ...uniforms]);
    this.dispatchLayout = webgpuUtil.flatDispatchLayout(this.outputShape);
    this.dispatch = [channels, 1, 1];
  }

  getUserCode(): string {
    return `
      var<workgroup> partial : array<f32, ${CHANNEL_SUM_THREADS}>;
      fn main(index : i32) {
        let c = i32(workgroupId.x);
        var total = 0.0;
        for (var row = i32(localId.x); row < uniforms.rows; row = row + ${CHANNEL_SUM_THREADS}) {
          let i = row * uniforms.channels + c;
          ${this.accumulate}
        }
        partial[localId.x] = total;
        workgroupBarrier();
        for (var half = ${CHANNEL_SUM_THREADS / 2}u; half > 0u; half = half / 2u) {
          if (localId.x < half) {
            partial[localId.x] = partial[localId.x] + partial[localId.x + half];
          }
          workgroupBarrier();
        }
        if (localId.x == 0u) {
          let total = partial[0];
          setOutputAtIndex(c, ${this.finish});
        }
      }`;
  }
}

export type WebgpuProgram = IndexedProgram | ChannelSumProgram;
