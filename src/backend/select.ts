import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.ts';

export type BackendChoice = 'auto' | 'webgpu' | 'tensorflow' | 'wasm' | 'cpu';
export type BackendName = Exclude<BackendChoice, 'auto'>;

const require = createRequire(import.meta.url);

/** Fastest first: WebGPU on a real GPU (auto skips a CPU fallback adapter), TensorFlow's native kernels, then WebAssembly, then pure JavaScript. */
const PREFERENCE: BackendName[] = ['webgpu', 'tensorflow', 'wasm', 'cpu'];

const HOW_TO_GET: Record<BackendName, string> = {
  webgpu: 'it needs the optional npm packages webgpu and @tensorflow/tfjs-backend-webgpu and a Vulkan driver (src/backend/webgpu.ts)',
  tensorflow: 'run `npm run setup:tensorflow` to build @tensorflow/tfjs-node',
  wasm: 'reinstall @tensorflow/tfjs-backend-wasm (npm install)',
  cpu: '',
};

/** Why each backend that failed to load did, for the error message. */
const loadErrors = new Map<BackendName, string>();

/** tfjs-node-gpu (built by `setup tensorflow --gpu`) when present, else tfjs-node: both register 'tensorflow'. */
async function importTensorflowBinding(): Promise<void> {
  // TensorFlow's INFO and WARNING lines (CPU features and the like) unless asked for (--verbose sets 0); it reads
  // the variable when the library loads. Its first two lines (absl's and oneDNN's notices) come before that read.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  try {
    require.resolve('@tensorflow/tfjs-node-gpu');
  } catch {
    await import('@tensorflow/tfjs-node');
    return;
  }
  await import('@tensorflow/tfjs-node-gpu' as string);
}

async function register(name: BackendName): Promise<boolean> {
  // tfjs registers the cpu backend on import; its faulty kernels are replaced before first use.
  if (name === 'cpu') (await import('./cpu-kernels.ts')).registerCpuKernels();
  if (tf.findBackend(name)) return true;
  try {
    if (name === 'tensorflow') {
      await importTensorflowBinding();
      (await import('./tensorflow-kernels.ts')).registerTensorflowKernels();
    } else if (name === 'wasm') {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      // In Node the .wasm binaries are read from the package's dist folder.
      const wasmDir = `${dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}/`;
      wasm.setWasmPaths(wasmDir);
      const { registerWasmGradientKernels } = await import('./wasm-kernels.ts');
      registerWasmGradientKernels();
      await (await import('./wasm-threads.ts')).startWasmThreads(wasmDir);
    } else if (name === 'webgpu') {
      await (await import('./webgpu.ts')).registerWebgpu();
    }
    return tf.findBackend(name) !== undefined || tf.engine().registryFactory[name] !== undefined;
  } catch (error) {
    loadErrors.set(name, (error as Error).message.split('\n')[0]);
    return false;
  }
}

/** Activates the requested backend (auto: the fastest that loads) and returns its name. */
export async function useBackend(choice: BackendChoice): Promise<BackendName> {
  const candidates = choice === 'auto' ? PREFERENCE : [choice];
  for (const name of candidates) {
    if (choice === 'auto' && name === 'webgpu' && !(await (await import('./webgpu.ts')).isHardwareWebgpu())) continue;
    if ((await register(name)) && (await tf.setBackend(name))) {
      await tf.ready();
      // tfjs's cpu backend greets its first use in Node with advice to install tfjs-node; our backend line says
      // which backend runs and how to get the others.
      if (name === 'cpu') (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
      return name;
    }
  }
  const name = choice as BackendName;
  throw new UserError(`train.backend ${choice} is not available (${loadErrors.get(name) ?? 'it did not initialise'}): ${HOW_TO_GET[name]}`);
}

/** Backends that load on this machine, fastest first. */
export async function availableBackends(): Promise<BackendName[]> {
  const found: BackendName[] = [];
  for (const name of PREFERENCE) if (await register(name)) found.push(name);
  return found;
}

/** The backend's name for logs; for webgpu with the adapter it runs on. */
export async function describeBackend(name: BackendName): Promise<string> {
  return name === 'webgpu' ? ((await import('./webgpu.ts')).describeWebgpu() ?? name) : name;
}
