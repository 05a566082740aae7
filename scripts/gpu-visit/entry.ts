// Entry of the GPU-visit bundle (scripts/gpu-visit/pack.sh). src/backend/webgpu.ts imports the optional
// @tensorflow/tfjs-backend-webgpu through a variable specifier, which a bundler leaves for Node to resolve at
// run time; the bundle imports it here instead, with the bundle's one copy of tfjs-core, and hands it over
// through the small package that pack.sh writes to node_modules/@tensorflow/tfjs-backend-webgpu.
import * as backendWebgpu from '@tensorflow/tfjs-backend-webgpu';

(globalThis as { __dcganTfjsBackendWebgpu?: unknown }).__dcganTfjsBackendWebgpu = backendWebgpu;
await import('../bench-webgpu.ts');
