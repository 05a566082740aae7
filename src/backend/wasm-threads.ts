// The other cores for the wasm backend's convolutions. In Node, tfjs-backend-wasm runs its single-threaded
// build (its threaded one needs browser workers), so XNNPACK uses one core. Each helper here is a worker
// thread with its own wasm backend and the same kernels: a convolution over a batch is split by images, the
// helpers take their images through shared memory while this thread computes its own, then it waits.
// Kernels stay synchronous, as TF.js requires: the wait is Atomics.wait, which Node allows on the main thread.
//
// Images are independent in every split kernel, so each output image is computed exactly as without the split;
// only Conv2DBackpropFilter, which sums over the batch, adds the parts' sums in a fixed order (deterministic).
import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** Words of a helper's control array. */
export const CONTROL = { state: 0, size: 1 } as const;
/** Values of CONTROL.state. */
export const STATE = { idle: 0, job: 1, done: 2, failed: 3 } as const;

/** A job, posted to the helper's port before it is woken: inputs and output as float32 offsets in `buffer`. */
export interface Job {
  buffer: SharedArrayBuffer;
  kernelName: string;
  attrs: tf.NamedAttrMap;
  inputs: Record<string, { shape: number[]; offset: number }>;
  outputOffset: number;
}

interface SplitKernel {
  /** Inputs cut along the batch (axis 0); the others go whole to every part. */
  batched: string[];
  /** Concatenate the parts' outputs along the batch, or add them (a gradient summed over the batch). */
  combine: 'concat' | 'sum';
  /** Attributes for a part of `images` images (Conv2DBackpropInput names the input's shape). */
  partAttrs?: (attrs: tf.NamedAttrMap, images: number) => tf.NamedAttrMap;
}

const SPLIT_KERNELS: Record<string, SplitKernel> = {
  Conv2D: { batched: ['x'], combine: 'concat' },
  FusedConv2D: { batched: ['x'], combine: 'concat' },
  Conv2DBackpropInput: {
    batched: ['dy'],
    combine: 'concat',
    partAttrs: (attrs, images) => ({ ...attrs, inputShape: [images, ...(attrs.inputShape as number[]).slice(1)] }),
  },
  Conv2DBackpropFilter: { batched: ['x', 'dy'], combine: 'sum' },
};

/**
 * Below this many output values times filter taps (about the multiply-adds) a convolution stays on one
 * thread: handing images to a helper costs copies and a thread wake-up, worth it from about a millisecond.
 */
const SPLIT_MIN_WORK = 16_000_000;

/** This thread's share of a split batch relative to one helper's. */
const OWN_WEIGHT = 1.1;

class Helper {
  readonly control = new Int32Array(new SharedArrayBuffer(CONTROL.size * 4));
  private buffer = new SharedArrayBuffer(0);

  constructor(
    readonly worker: Worker,
    private readonly port: MessagePort,
  ) {}

  /** Copies the part's inputs into shared memory and wakes the helper; returns where its output will be. */
  start(kernelName: string, attrs: tf.NamedAttrMap, inputs: Record<string, { shape: number[]; data: Float32Array }>, outputSize: number): Float32Array {
    const inputSize = Object.values(inputs).reduce((n, input) => n + input.data.length, 0);
    if (this.buffer.byteLength < (inputSize + outputSize) * 4) this.buffer = new SharedArrayBuffer(Math.ceil((inputSize + outputSize) * 1.25) * 4);
    const data = new Float32Array(this.buffer);
    const placed: Job['inputs'] = {};
    let offset = 0;
    for (const [name, input] of Object.entries(inputs)) {
      data.set(input.data, offset);
      placed[name] = { shape: input.shape, offset };
      offset += input.data.length;
    }
    this.port.postMessage({ buffer: this.buffer, kernelName, attrs, inputs: placed, outputOffset: offset } satisfies Job);
    Atomics.store(this.control, CONTROL.state, STATE.job);
    Atomics.notify(this.control, CONTROL.state);
    return data.subarray(offset, offset + outputSize);
  }

  /** Waits for the job started last. */
  finish(): void {
    const c = this.control;
    while (Atomics.load(c, CONTROL.state) === STATE.job) Atomics.wait(c, CONTROL.state, STATE.job);
    const state = Atomics.load(c, CONTROL.state);
    Atomics.store(c, CONTROL.state, STATE.idle);
    if (state === STATE.failed) throw new Error('a wasm helper thread failed (its error is printed above)');
  }

  /** Lets the process exit while the helper waits for work. */
  unref(): void {
    this.worker.unref();
    this.port.unref();
  }
}

let helpers: Helper[] = [];
/** Convolutions split so far, for the benchmark and the tests. */
let splits = 0;

/** How many helper threads run, and how many kernels they have shared. */
export function wasmThreads(): { helpers: number; splits: number } {
  return { helpers: helpers.length, splits };
}

/**
 * Starts one helper per core beyond this thread's (at most `limit`), each with a ready wasm backend, and
 * wraps the convolution kernels to share their images with them. Call after `registerWasmGradientKernels`
 * and before the wasm backend initialises. With one core it does nothing; where the helpers cannot start,
 * the backend still works on this thread alone and a warning says why. Helpers never keep the process alive.
 */
export async function startWasmThreads(wasmDir: string, limit = availableParallelism() - 1): Promise<void> {
  if (helpers.length > 0 || limit < 1) return;
  const workerUrl = new URL('./wasm-thread-worker.ts', import.meta.url).href;
  const tsxUrl = import.meta.resolve('tsx/esm/api');
  // Worker threads do not inherit tsx's loader: the worker registers it before importing the TypeScript.
  const source = `import(${JSON.stringify(tsxUrl)}).then(({ register }) => { register(); return import(${JSON.stringify(workerUrl)}); });`;
  const started = Array.from({ length: limit }, () => {
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(source, { eval: true, workerData: { wasmDir, port: port2 }, transferList: [port2] });
    return new Helper(worker, port1);
  });
  try {
    await Promise.all(
      started.map(
        (helper) =>
          new Promise<void>((resolve, reject) => {
            helper.worker.once('message', () => resolve());
            helper.worker.once('error', reject);
            helper.worker.postMessage({ control: helper.control });
          }),
      ),
    );
  } catch (error) {
    await Promise.all(started.map((helper) => helper.worker.terminate()));
    process.emitWarning(`the wasm backend runs on one thread: its helper threads did not start (${(error as Error).message})`);
    return;
  }
  for (const helper of started) helper.unref();
  helpers = started;
  for (const [kernelName, split] of Object.entries(SPLIT_KERNELS)) wrap(kernelName, split);
}

function wrap(kernelName: string, split: SplitKernel): void {
  const original = tf.getKernel(kernelName, 'wasm');
  if (!original) return;
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({
    ...original,
    kernelFunc: (args) => splitKernel(args as unknown as KernelArgs, original.kernelFunc as unknown as KernelFunc, kernelName, split),
  });
}

interface KernelArgs {
  inputs: Record<string, tf.TensorInfo | undefined>;
  attrs: tf.NamedAttrMap;
  backend: BackendWasm;
}
type KernelFunc = (args: KernelArgs) => tf.TensorInfo;

function splitKernel(args: KernelArgs, run: KernelFunc, kernelName: string, split: SplitKernel): tf.TensorInfo {
  const { inputs, attrs, backend } = args;
  const first = inputs[split.batched[0]!]!;
  const images = first.shape[0]!;
  const filter = kernelName === 'Conv2DBackpropFilter' ? (attrs.filterShape as number[]) : inputs.filter!.shape;
  // About the multiply-adds: pixels of the batched input times filter taps.
  const work = tf.util.sizeFromShape(first.shape.slice(0, 3)) * tf.util.sizeFromShape(filter);
  const parts = Math.min(helpers.length + 1, images);
  const allFloat = Object.values(inputs).every((t) => t === undefined || t.dtype === 'float32');
  if (parts < 2 || work < SPLIT_MIN_WORK || !allFloat) return run(args);
  splits += 1;

  // This thread takes the first images, a little more than a helper: a helper's part also waits for its
  // copies and its wake-up (about 8% of a DCGAN convolution, measured on 2 cores).
  const own = Math.min(images - (parts - 1), Math.round((images * OWN_WEIGHT) / (OWN_WEIGHT + parts - 1)));
  const share = Math.ceil((images - own) / (parts - 1));
  const slice = (t: tf.TensorInfo, from: number, count: number) => {
    const perImage = tf.util.sizeFromShape(t.shape.slice(1));
    return (backend.typedArrayFromHeap(t) as Float32Array).subarray(from * perImage, (from + count) * perImage);
  };
  const partInputs = (from: number, count: number) => {
    const out: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [name, t] of Object.entries(inputs)) {
      if (!t) continue;
      out[name] = split.batched.includes(name)
        ? { shape: [count, ...t.shape.slice(1)], data: slice(t, from, count) }
        : { shape: [...t.shape], data: backend.typedArrayFromHeap(t) as Float32Array };
    }
    return out;
  };
  const partAttrs = (count: number) => (split.partAttrs ? split.partAttrs(attrs, count) : attrs);

  const pending: { helper: Helper; from: number; count: number; output: Float32Array }[] = [];
  try {
    for (let i = 1; i < parts; i++) {
      const from = own + share * (i - 1);
      const count = Math.min(share, images - from);
      if (count <= 0) break;
      const perImageOut = split.combine === 'sum' ? 0 : outputPerImage(kernelName, args);
      const outputSize = split.combine === 'sum' ? tf.util.sizeFromShape(filter) : perImageOut * count;
      const helper = helpers[i - 1]!;
      const output = helper.start(kernelName, partAttrs(count), partInputs(from, count), outputSize);
      pending.push({ helper, from, count, output });
    }
    // Views of this thread's images: the same data, a shorter batch (kernels read only `shape` of it).
    const ownInputs = Object.fromEntries(
      Object.entries(inputs).map(([name, t]) => [name, t && split.batched.includes(name) ? { ...t, shape: [own, ...t.shape.slice(1)] } : t]),
    );
    const ownOut = run({ inputs: ownInputs, attrs: partAttrs(own), backend });
    const shape = split.combine === 'sum' ? [...ownOut.shape] : [images, ...ownOut.shape.slice(1)];
    const out = backend.makeOutput(shape, 'float32');
    const outData = backend.typedArrayFromHeap(out) as Float32Array;
    outData.set(backend.typedArrayFromHeap(ownOut) as Float32Array);
    backend.disposeData(ownOut.dataId);
    while (pending.length > 0) {
      const { helper, from, output } = pending.shift()!;
      helper.finish();
      if (split.combine === 'sum') for (let i = 0; i < outData.length; i++) outData[i] += output[i]!;
      else outData.set(output, from * (outData.length / images));
    }
    return out;
  } finally {
    // A helper still running would write into its next job's buffer: wait for each, even after an error.
    for (const { helper } of pending) {
      try {
        helper.finish();
      } catch {
        // The error that brought us here is the one to report.
      }
    }
  }
}

/** Output values per image of a batch-concatenated convolution. */
function outputPerImage(kernelName: string, args: KernelArgs): number {
  const { inputs, attrs } = args;
  if (kernelName === 'Conv2DBackpropInput') return tf.util.sizeFromShape((attrs.inputShape as number[]).slice(1));
  const info = tf.backend_util.computeConv2DInfo(
    inputs.x!.shape as [number, number, number, number],
    inputs.filter!.shape as [number, number, number, number],
    attrs.strides as number | [number, number],
    (attrs.dilations ?? 1) as number | [number, number],
    attrs.pad as 'same' | 'valid' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
  );
  return tf.util.sizeFromShape(info.outShape.slice(1));
}
