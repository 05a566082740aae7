// npm run setup:tensorflow [-- --gpu] [-- --wheel-dir DIR]: builds the tfjs-node native backend from the PyPI TensorFlow wheel.
// As npm's postinstall (--if-missing --optional) it keeps a working tfjs-node, builds one where tfjs-node's own
// download failed, and never fails the install: training then falls back to another backend.
import { parseArgs } from 'node:util';
import { setupTensorflow } from '../src/setup/tensorflow.ts';

const { values } = parseArgs({
  options: {
    gpu: { type: 'boolean', default: false },
    'wheel-dir': { type: 'string' },
    'if-missing': { type: 'boolean', default: false },
    optional: { type: 'boolean', default: false },
  },
});
try {
  if (values.optional && process.env.DCGAN_RUN_SKIP_TENSORFLOW) {
    console.log('dcgan-run: DCGAN_RUN_SKIP_TENSORFLOW is set: not building the tensorflow backend');
  } else {
    await setupTensorflow({ gpu: values.gpu, wheelDir: values['wheel-dir'], ifMissing: values['if-missing'], log: (line) => console.log(line) });
  }
} catch (e) {
  const message = e instanceof Error ? e.message : String(e);
  if (!values.optional) {
    console.error(message);
    process.exit(1);
  }
  console.warn(`dcgan-run: the tensorflow backend was not built, training will use wasm or cpu (retry with npm run setup:tensorflow):\n${message}`);
}
