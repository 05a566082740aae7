// TensorFlow.js on WebGPU in Node, from npm alone: Dawn's Node bindings (npm package `webgpu`, a prebuilt
// N-API module that drives the GPU through Vulkan on Linux) under @tensorflow/tfjs-backend-webgpu.
//
// Both packages are optional dependencies. `registerWebgpu` loads them, asks Dawn for an adapter and registers
// a 'webgpu' backend factory on that adapter; it throws a UserError naming what is missing (a package, a
// native library, a Vulkan driver) and how to get it. src/backend/select.ts calls it for
// train.backend: webgpu, and for auto, which takes webgpu only on a real GPU (`isHardwareWebgpu`): Mesa's
// lavapipe and other CPU implementations of Vulkan are "fallback" adapters, fine for correctness tests on
// tiny models (scripts/setup-lavapipe.sh installs one) and far too slow to train on.
//
// In Node the backend module needs, before it starts:
//  - Dawn's WebGPU classes and constants (GPUBufferUsage, GPUMapMode, ...) on globalThis;
//  - navigator.gpu, which WebGPUBackend's constructor checks. Its own factory (registered at import when
//    navigator.gpu exists then) requests a second adapter and has priority 3, which would make tfjs pick
//    webgpu over cpu whenever code runs before any setBackend; so the package is imported before
//    navigator.gpu is set (it then registers no factory) and the factory below is registered instead, on the
//    adapter already inspected, at priority 0.
// Dawn keeps the process alive while its GPU object and device are referenced (https://crbug.com/387965810):
// `releaseWebgpu` destroys the device and drops every reference; it runs on 'beforeExit' and when the
// backend is removed.
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.ts';
import { registerWebgpuKernels } from './webgpu-kernels.ts';
import type { WebgpuUtil } from './webgpu-programs.ts';

export const WEBGPU_BACKEND = 'webgpu';
const PACKAGES = { dawn: 'webgpu', backend: '@tensorflow/tfjs-backend-webgpu' } as const;
const SETUP_HINT = "install your GPU's Vulkan driver, or for a slow CPU fallback (tests only) run scripts/setup-lavapipe.sh (Debian 12)";

/** What Dawn says about the adapter the backend runs on. */
export interface WebgpuAdapter {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU implementation (lavapipe, SwiftShader, WARP): `train.backend: auto` does not take it. */
  fallback: boolean;
  /** One line for logs, e.g. "nvidia ampere (NVIDIA A100-SXM4-40GB), Vulkan" or "mesa software (llvmpipe ...) [fallback: CPU]". */
  summary: string;
  /** Versions of the two packages. */
  versions: { webgpu: string; tfjsBackendWebgpu: string };
  /** The adapter's features, e.g. 'timestamp-query' (needed for per-kernel GPU times in tf.profile). */
  features: string[];
}

// The few WebGPU API shapes used here (the packages' own types come with the optional packages, which may be
// absent when this project is type-checked).
interface GpuAdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
interface GpuDeviceLike {
  destroy(): void;
  lost: Promise<{ reason: string; message: string }>;
  features: { has(name: string): boolean };
}
interface GpuAdapterLike {
  info?: GpuAdapterInfoLike;
  isFallbackAdapter?: boolean;
  features: Iterable<string> & { has(name: string): boolean };
  limits: Record<string, number>;
  requestDevice(descriptor?: object): Promise<GpuDeviceLike>;
}
interface GpuLike {
  requestAdapter(options?: object): Promise<GpuAdapterLike | null>;
}
interface DawnModule {
  create(options: string[]): GpuLike;
  globals: Record<string, unknown>;
}
interface BackendModule {
  WebGPUBackend: new (device: GpuDeviceLike, adapterInfo?: GpuAdapterInfoLike) => tf.KernelBackend;
  webgpu_util: WebgpuUtil;
}

interface Loaded {
  gpu: GpuLike;
  adapter: GpuAdapterLike;
  info: WebgpuAdapter;
  device?: GpuDeviceLike;
}

let loaded: Loaded | undefined;
let loading: Promise<WebgpuAdapter> | undefined;
/** The error of the last failed load: loading is tried once per process. */
let failure: Error | undefined;

const require = createRequire(import.meta.url);

export interface WebgpuOptions {
  /**
   * Options for Dawn's `create` (the first call that loads wins), e.g. 'disable-dawn-features=timestamp_quantization'
   * for unrounded kernel times (scripts/bench-webgpu.ts), or 'adapter=<name>' to pick one of several GPUs.
   */
  dawn?: string[];
}

/**
 * Loads Dawn and the tfjs WebGPU backend, finds an adapter and registers the 'webgpu' backend factory
 * (idempotent). Returns the adapter; throws a UserError saying what is missing and how to get it.
 */
export function registerWebgpu(options: WebgpuOptions = {}): Promise<WebgpuAdapter> {
  if (loaded) return Promise.resolve(loaded.info);
  if (failure) return Promise.reject(failure);
  loading ??= load(options).then(
    (info) => info,
    (error: Error) => {
      failure = error;
      loading = undefined;
      throw error;
    },
  );
  return loading;
}

/** The adapter of the registered backend, if `registerWebgpu` succeeded. */
export function webgpuAdapter(): WebgpuAdapter | undefined {
  return loaded?.info;
}

/** True when `registerWebgpu` found a real GPU (not a fallback/CPU adapter): what `train.backend: auto` requires. */
export async function isHardwareWebgpu(): Promise<boolean> {
  try {
    return !(await registerWebgpu()).fallback;
  } catch {
    return false;
  }
}

/** "webgpu on <adapter>" for the trainer's "backend: ..." line, or undefined before `registerWebgpu`. */
export function describeWebgpu(): string | undefined {
  return loaded ? `webgpu on ${loaded.info.summary}` : undefined;
}

/**
 * Removes the backend, destroys the device and drops Dawn's GPU object so that Node can exit. Safe to call
 * twice; a later `registerWebgpu` loads again.
 */
export function releaseWebgpu(): void {
  const current = loaded;
  loaded = undefined;
  loading = undefined;
  if (tf.engine().registryFactory[WEBGPU_BACKEND] !== undefined) {
    // Disposes the backend's buffers, if it started, and unregisters the factory.
    try {
      tf.removeBackend(WEBGPU_BACKEND);
    } catch {
      // a backend that failed to initialise has nothing to dispose
    }
  }
  if (current?.device) {
    try {
      current.device.destroy();
    } catch {
      // already destroyed or lost
    }
  }
  const nav = (globalThis as unknown as { navigator?: { gpu?: unknown } }).navigator;
  if (nav && current && nav.gpu === current.gpu) {
    try {
      delete nav.gpu;
    } catch {
      // a non-configurable navigator.gpu that we did not set
    }
  }
  process.off('beforeExit', releaseWebgpu);
}

// ---------------------------------------------------------------------------------------------------------

async function load(options: WebgpuOptions): Promise<WebgpuAdapter> {
  const dawn = await importDawn();
  // Without the Vulkan loader Dawn finds nothing and prints a warning of its own: say why before asking it.
  if (process.platform === 'linux' && !hasLibrary('libvulkan.so.1')) throw new UserError(noAdapterMessage());
  // Dawn's GPU* classes and constants (GPUBufferUsage, GPUMapMode, ...), which the backend uses as globals.
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create(options.dawn ?? []);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new UserError(noAdapterMessage());
  const info = describe(adapter);

  // Imported while navigator.gpu is unset, the package registers no factory of its own (see the top); one
  // registered anyway (the package imported earlier by other code with navigator.gpu set) is replaced.
  const backendModule = await importBackend();
  if (tf.engine().registryFactory[WEBGPU_BACKEND] !== undefined) tf.removeBackend(WEBGPU_BACKEND);
  registerWebgpuKernels(backendModule.webgpu_util);
  // Transposed convolutions and input gradients as the backend's tiled matrix-product program rather than its
  // default naive one (one thread per input element, looping over the filter); tested against cpu.
  tf.env().set('WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE', false);
  setNavigatorGpu(gpu);

  const state: Loaded = { gpu, adapter, info };
  loaded = state;
  // One device per adapter (Dawn refuses a second: the adapter is "consumed"), and tfjs may call the factory
  // twice while the first call is pending (findBackend, then setBackend): both get the one backend.
  let backend: Promise<tf.KernelBackend> | undefined;
  const create = async () => {
    const device = await adapter.requestDevice(deviceDescriptor(adapter));
    state.device = device;
    void device.lost.then((lost) => {
      if (lost.reason !== 'destroyed' && loaded === state) process.emitWarning(`webgpu: the GPU device was lost (${lost.reason}): ${lost.message}`);
    });
    return new backendModule.WebGPUBackend(device, adapter.info);
  };
  tf.registerBackend(
    WEBGPU_BACKEND,
    () => (backend ??= create()),
    // Never chosen implicitly: select.ts sets every backend by name.
    0,
  );
  process.on('beforeExit', releaseWebgpu);
  return info;
}

/** What tfjs-backend-webgpu's own factory asks for: the adapter's limits for big buffers and workgroups, timestamps when offered. */
function deviceDescriptor(adapter: GpuAdapterLike): object {
  const limits = adapter.limits;
  const requiredLimits: Record<string, number> = {};
  for (const name of [
    'maxComputeWorkgroupStorageSize',
    'maxComputeWorkgroupsPerDimension',
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeWorkgroupSizeX',
    'maxComputeInvocationsPerWorkgroup',
  ]) {
    if (typeof limits[name] === 'number') requiredLimits[name] = limits[name];
  }
  const requiredFeatures = ['timestamp-query'].filter((name) => adapter.features.has(name));
  return { requiredFeatures, requiredLimits };
}

function setNavigatorGpu(gpu: GpuLike): void {
  const g = globalThis as unknown as { navigator?: Record<string, unknown> };
  if (g.navigator && typeof g.navigator === 'object') {
    // Node 21+ has a navigator of its own: add gpu to it.
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true, enumerable: true });
  } else {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true, enumerable: false });
  }
}

function describe(adapter: GpuAdapterLike): WebgpuAdapter {
  const i = adapter.info ?? {};
  const vendor = i.vendor ?? '';
  const architecture = i.architecture ?? '';
  const device = i.device ?? '';
  const description = i.description ?? '';
  // Dawn 0.6 reports it on the adapter info (the current spec); older ones on the adapter. Software
  // rasterisers are caught by name too, in case a driver does not say.
  const flagged = i.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false;
  const software = architecture === 'software' || /llvmpipe|lavapipe|swiftshader|softpipe|microsoft basic render/i.test(`${device} ${description}`);
  const fallback = flagged || software;
  const name = [vendor, architecture].filter(Boolean).join(' ') || 'unknown adapter';
  const detail = description || device;
  return {
    vendor,
    architecture,
    device,
    description,
    fallback,
    summary: `${name}${detail ? ` (${detail})` : ''}${fallback ? ' [fallback adapter: runs on the CPU, for tests only]' : ''}`,
    versions: { webgpu: packageVersion(PACKAGES.dawn), tfjsBackendWebgpu: packageVersion(PACKAGES.backend) },
    features: [...adapter.features].sort(),
  };
}

function packageVersion(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

// ---------------------------------------------------------------------------------------------------------
// Loading, and what to say when it fails

const isMissingPackage = (error: unknown, name: string) => {
  const e = error as NodeJS.ErrnoException;
  return (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') && String(e.message).includes(name);
};

async function importDawn(): Promise<DawnModule> {
  try {
    // A variable specifier: the package is optional, and its types may be absent too.
    return (await import(PACKAGES.dawn as string)) as DawnModule;
  } catch (error) {
    const message = String((error as Error).message ?? error).split('\n')[0];
    if (isMissingPackage(error, `'${PACKAGES.dawn}'`) || isMissingPackage(error, `"${PACKAGES.dawn}"`)) {
      throw new UserError(
        `the npm package ${PACKAGES.dawn} (Dawn's WebGPU for Node) is not installed: it is an optional dependency; run npm install (without --omit=optional)`,
      );
    }
    if (/dawn\.node/.test(message) && /Cannot find module/.test(message)) {
      throw new UserError(
        `the npm package ${PACKAGES.dawn} has no prebuilt binary for ${process.platform}-${process.arch} (it ships linux-x64, linux-arm64, darwin and win32): ${message}`,
      );
    }
    if (/GLIBC_|GLIBCXX_/.test(message)) {
      throw new UserError(
        `Dawn's native module (npm package ${PACKAGES.dawn}) needs glibc >= 2.34 and libstdc++ with GLIBCXX_3.4.30 (Debian 12, Ubuntu 22.04 or newer; on older systems install a newer libstdc++6): ${message}`,
      );
    }
    throw new UserError(`Dawn's native module (npm package ${PACKAGES.dawn}) did not load: ${message}`);
  }
}

async function importBackend(): Promise<BackendModule> {
  try {
    return (await import(PACKAGES.backend as string)) as BackendModule;
  } catch (error) {
    if (isMissingPackage(error, PACKAGES.backend)) {
      throw new UserError(`the npm package ${PACKAGES.backend} is not installed: it is an optional dependency; run npm install (without --omit=optional)`);
    }
    throw new UserError(`${PACKAGES.backend} did not load: ${String((error as Error).message).split('\n')[0]}`);
  }
}

/** Why Dawn found no adapter, as far as can be told from here (Dawn itself only prints a warning). */
function noAdapterMessage(): string {
  if (process.platform !== 'linux') return `Dawn (npm package ${PACKAGES.dawn}) found no WebGPU adapter: install or update your GPU driver`;
  if (!hasLibrary('libvulkan.so.1')) {
    return `Dawn found no WebGPU adapter: libvulkan.so.1 (the Vulkan loader) is missing; ${SETUP_HINT} (both bring libvulkan1)`;
  }
  const { drivers, from } = vulkanDrivers();
  if (drivers.length === 0)
    return `Dawn found no WebGPU adapter: the Vulkan loader is installed but no Vulkan driver is (no ICD file in ${from}); ${SETUP_HINT}`;
  return `Dawn found no WebGPU adapter it accepts among the Vulkan drivers (${drivers.join(', ')}, from ${from}; Debian 12's own lavapipe, Mesa 22, is refused); ${SETUP_HINT}`;
}

function hasLibrary(name: string): boolean {
  for (const ldconfig of ['ldconfig', '/sbin/ldconfig', '/usr/sbin/ldconfig']) {
    try {
      if (execFileSync(ldconfig, ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).includes(`${name} `)) return true;
      break;
    } catch {
      // try the next location
    }
  }
  const dirs = [
    ...(process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    '/lib',
    '/usr/lib',
    '/lib64',
    '/usr/lib64',
    `/usr/lib/${process.arch === 'x64' ? 'x86_64' : 'aarch64'}-linux-gnu`,
    `/lib/${process.arch === 'x64' ? 'x86_64' : 'aarch64'}-linux-gnu`,
  ];
  return dirs.some((dir) => existsSync(`${dir}/${name}`));
}

/** The Vulkan drivers (ICD files) the loader will look at: VK_DRIVER_FILES / VK_ICD_FILENAMES when set, else the standard folders. */
function vulkanDrivers(): { drivers: string[]; from: string } {
  const variable = process.env.VK_DRIVER_FILES ? 'VK_DRIVER_FILES' : process.env.VK_ICD_FILENAMES ? 'VK_ICD_FILENAMES' : undefined;
  if (variable) {
    const files = (process.env[variable] ?? '').split(':').filter(Boolean);
    return { drivers: files.map((f) => (existsSync(f) ? f : `${f} (missing)`)), from: `$${variable}` };
  }
  const folders = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
  const drivers: string[] = [];
  for (const dir of folders) {
    try {
      for (const file of readdirSync(dir)) if (file.endsWith('.json')) drivers.push(file.replace(/\.json$/, ''));
    } catch {
      // no such folder
    }
  }
  return { drivers, from: folders.join(', ') };
}
