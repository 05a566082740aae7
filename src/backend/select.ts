import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.ts';

export type BackendChoice = 'auto' | 'tensorflow' | 'wasm' | 'cpu';
export type BackendName = Exclude<BackendChoice, 'auto'>;

const require = createRequire(import.meta.url);

/** Fastest first: TensorFlow's native kernels, then WebAssembly, then pure JavaScript. */
const PREFERENCE: BackendName[] = ['tensorflow', 'wasm', 'cpu'];

const WHY_MISSING: Record<BackendName, string> = {
  tensorflow: '@tensorflow/tfjs-node is not installed or its native addon is not built: run `npm run setup:tensorflow`',
  wasm: '@tensorflow/tfjs-backend-wasm could not be loaded',
  cpu: 'the cpu backend is always available',
};

async function register(name: BackendName): Promise<boolean> {
  if (tf.findBackend(name)) return true;
  try {
    if (name === 'tensorflow') {
      await import('@tensorflow/tfjs-node');
    } else if (name === 'wasm') {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      // In Node the .wasm binaries are read from the package's dist folder.
      wasm.setWasmPaths(`${join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '')}/`);
      const { registerWasmGradientKernels } = await import('./wasm-kernels.ts');
      registerWasmGradientKernels();
    }
    return tf.findBackend(name) !== undefined || tf.engine().registryFactory[name] !== undefined;
  } catch {
    return false;
  }
}

/** Activates the requested backend (auto: the fastest that loads) and returns its name. */
export async function useBackend(choice: BackendChoice): Promise<BackendName> {
  const candidates = choice === 'auto' ? PREFERENCE : [choice];
  for (const name of candidates) {
    if ((await register(name)) && (await tf.setBackend(name))) {
      await tf.ready();
      return name;
    }
  }
  throw new UserError(`train.backend ${choice} is not available: ${WHY_MISSING[choice as BackendName]}`);
}

/** Backends that load on this machine, fastest first. */
export async function availableBackends(): Promise<BackendName[]> {
  const found: BackendName[] = [];
  for (const name of PREFERENCE) if (await register(name)) found.push(name);
  return found;
}
