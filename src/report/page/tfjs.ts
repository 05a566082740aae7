// What the page's bundle gets for '@tensorflow/tfjs' (an esbuild alias, src/report/bundle.ts): the parts that
// load and run a LayersModel in a browser, without the converter and tfjs-data that the whole package adds.
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';

export * from '@tensorflow/tfjs-core';
export * from '@tensorflow/tfjs-layers';
