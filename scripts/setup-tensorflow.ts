// npm run setup:tensorflow [-- --gpu] [-- --wheel-dir DIR]: builds the tfjs-node native backend from the PyPI TensorFlow wheel.
import { parseArgs } from 'node:util';
import { setupTensorflow } from '../src/setup/tensorflow.ts';

try {
  const { values } = parseArgs({ options: { gpu: { type: 'boolean', default: false }, 'wheel-dir': { type: 'string' } } });
  await setupTensorflow({ gpu: values.gpu, wheelDir: values['wheel-dir'], log: (line) => console.log(line) });
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
}
