// A wasm helper thread (src/backend/wasm-threads.ts): its own wasm backend with the project's kernels, one
// kernel call per job. It blocks in Atomics.wait between jobs.
import { parentPort, receiveMessageOnPort, type MessagePort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { type BackendWasm, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmGradientKernels } from './wasm-kernels.ts';
import { CONTROL, type Job, STATE } from './wasm-threads.ts';

const { wasmDir, port } = workerData as { wasmDir: string; port: MessagePort };
setWasmPaths(wasmDir);
registerWasmGradientKernels();
await tf.setBackend('wasm');
const backend = tf.backend() as BackendWasm;

const control = await new Promise<Int32Array>((resolve) => parentPort!.once('message', (m: { control: Int32Array }) => resolve(m.control)));
parentPort!.postMessage('ready');

for (;;) {
  let state: number;
  while ((state = Atomics.load(control, CONTROL.state)) !== STATE.job) Atomics.wait(control, CONTROL.state, state);
  try {
    const job = receiveMessageOnPort(port)?.message as Job | undefined;
    if (!job) throw new Error('wasm helper: woken without a job');
    const data = new Float32Array(job.buffer);
    tf.tidy(() => {
      const inputs: Record<string, tf.Tensor> = {};
      for (const [name, { shape, offset }] of Object.entries(job.inputs)) {
        inputs[name] = tf.tensor(data.subarray(offset, offset + tf.util.sizeFromShape(shape)), shape, 'float32');
      }
      const out = tf.engine().runKernel(job.kernelName, inputs, job.attrs) as tf.Tensor;
      data.set(backend.typedArrayFromHeap(out) as Float32Array, job.outputOffset);
    });
    Atomics.store(control, CONTROL.state, STATE.done);
  } catch (error) {
    console.error(error);
    Atomics.store(control, CONTROL.state, STATE.failed);
  }
  Atomics.notify(control, CONTROL.state);
}
