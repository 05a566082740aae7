// Fused kernels for the webgpu backend (names in src/backend/fused-kernels.ts), each one WGSL dispatch where
// tfjs-core composes several: on a GPU most of a DCGAN step's time is per-dispatch overhead, not arithmetic.
//   ReLU / LeakyReLU gradients: 1 dispatch (tfjs-core: Step/Greater, Cast, Multiply, Select: 2 to 4);
//   Adam per variable: 3 (first moment, second moment, update; tfjs-core: 13).
// Elementwise over flat buffers; the backend compiles the program around `getUserCode` (inputs read with
// get<Name>ByOutputIndex, the result written with setOutputAtIndex, uniforms.size the element count).
import * as tf from '@tensorflow/tfjs';
import { FUSED, registerFusedGradients } from './fused-kernels.ts';

// The few shapes of tfjs-backend-webgpu used here (an optional package: its types may be absent).
type Uniforms = { type: 'float32'; data: number[] }[];
interface WebGPUBackend {
  runWebGPUProgram(program: ElementwiseProgram, inputs: tf.TensorInfo[], dtype: 'float32', uniforms?: Uniforms): tf.TensorInfo;
}
/** tfjs-backend-webgpu's `webgpu_util`. */
export interface WebgpuUtil {
  flatDispatchLayout(shape: number[]): { x: number[] };
  computeDispatch(layout: { x: number[] }, shape: number[], workgroup: [number, number, number]): [number, number, number];
}

/** An elementwise program over `variableNames`, all of the output's shape: `body` computes `result`. */
class ElementwiseProgram {
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
    uniformNames: string[],
    private readonly body: string,
    webgpuUtil: WebgpuUtil,
  ) {
    this.outputShape = shape;
    this.variableNames = variableNames;
    this.shaderKey = `dcgan_${name}`;
    if (uniformNames.length > 0) this.uniforms = uniformNames.map((u) => `${u} : f32,`).join('');
    this.dispatchLayout = webgpuUtil.flatDispatchLayout(shape);
    this.dispatch = webgpuUtil.computeDispatch(this.dispatchLayout, shape, this.workgroupSize);
  }

  getUserCode(): string {
    const reads = this.variableNames.map((v) => `let ${v} = get${v[0]!.toUpperCase()}${v.slice(1)}ByOutputIndex(index);`).join('\n');
    return `
      fn main(index : i32) {
        if (index < uniforms.size) {
          ${reads}
          ${this.body}
          setOutputAtIndex(index, result);
        }
      }`;
  }
}

interface KernelArgs {
  inputs: Record<string, tf.TensorInfo>;
  attrs: tf.NamedAttrMap;
  backend: unknown;
}

/** Registers the fused kernels on the webgpu backend (call after its package is imported); idempotent. */
export function registerWebgpuKernels(webgpuUtil: WebgpuUtil): void {
  if (tf.getKernel(FUSED.reluGrad, 'webgpu')) return;
  const kernel = (kernelName: string, run: (args: KernelArgs, backend: WebGPUBackend) => tf.TensorInfo) =>
    tf.registerKernel({ kernelName, backendName: 'webgpu', kernelFunc: ((args: KernelArgs) => run(args, args.backend as WebGPUBackend)) as unknown as tf.KernelFunc });
  const program = (name: string, shape: number[], inputs: string[], uniforms: string[], body: string) =>
    new ElementwiseProgram(name, shape, inputs, uniforms, body, webgpuUtil);
  const floats = (...values: number[]): Uniforms => values.map((v) => ({ type: 'float32', data: [v] }));

  kernel(FUSED.reluGrad, ({ inputs: { dy, x } }, backend) =>
    backend.runWebGPUProgram(program('reluGrad', [...x!.shape], ['dy', 'x'], [], 'let result = select(0.0, dy, x > 0.0);'), [dy!, x!], 'float32'));
  kernel(FUSED.leakyReluGrad, ({ inputs: { dy, x }, attrs }, backend) =>
    backend.runWebGPUProgram(
      program('leakyReluGrad', [...x!.shape], ['dy', 'x'], ['alpha'], 'let result = select(uniforms.alpha * dy, dy, x > 0.0);'),
      [dy!, x!],
      'float32',
      floats(attrs.alpha as number),
    ));
  kernel(FUSED.adamMoment, ({ inputs: { moment, gradient }, attrs }, backend) => {
    const g = attrs.squared ? 'gradient * gradient' : 'gradient';
    const name = attrs.squared ? 'adamSecondMoment' : 'adamFirstMoment';
    return backend.runWebGPUProgram(
      // 1 - beta from JavaScript's doubles, as tfjs-core's Adam takes it: in f32 on the GPU, 1 - 0.999 is off by 5e-5.
      program(name, [...moment!.shape], ['moment', 'gradient'], ['beta', 'oneMinusBeta'], `let result = uniforms.beta * moment + uniforms.oneMinusBeta * ${g};`),
      [moment!, gradient!],
      'float32',
      floats(attrs.beta as number, 1 - (attrs.beta as number)),
    );
  });
  kernel(FUSED.adamUpdate, ({ inputs: { value, m, v }, attrs }, backend) =>
    backend.runWebGPUProgram(
      program(
        'adamUpdate',
        [...value!.shape],
        ['value', 'm', 'v'],
        ['learningRate', 'c1', 'c2', 'epsilon'],
        'let result = value - uniforms.learningRate * (m * uniforms.c1) / (sqrt(v * uniforms.c2) + uniforms.epsilon);',
      ),
      [value!, m!, v!],
      'float32',
      floats(attrs.learningRate as number, attrs.c1 as number, attrs.c2 as number, attrs.epsilon as number),
    ));
  registerFusedGradients();
}
