// Builds the TensorFlow.js native backend (@tensorflow/tfjs-node[-gpu]) without its install
// script, which downloads libtensorflow from Google storage (unreachable here). Instead the
// TensorFlow C library and headers are taken from the official PyPI wheel and the addon is
// compiled locally with npm's bundled node-gyp.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { mkdir, rename, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface SetupTensorflowOptions {
  gpu: boolean;
  /** Directory holding (or receiving) the TensorFlow wheel; default `.cache/tensorflow-wheel/`. */
  wheelDir?: string;
  /** Keep any working build, whatever its TensorFlow version (tfjs-node's own install, where its download works). */
  ifMissing?: boolean;
  log: (line: string) => void;
}

/** Every pinned version in one place. */
export const TENSORFLOW_PINS = {
  tfjsNode: '4.22.0',
  tensorflow: '2.21.0',
  // The wheel is only a container for the C library, so its Python tag need not match local Python.
  pythonVersion: '3.11',
  abi: 'cp311',
  platform: 'manylinux_2_27_x86_64',
  napiVersion: 8,
  variants: {
    cpu: {
      npmPackage: '@tensorflow/tfjs-node',
      pipPackage: 'tensorflow-cpu',
      // sha256 of tensorflow_cpu-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl, computed locally and equal to PyPI's.
      sha256: '2b847d217b02ee7731ed91431daf3250daa0196c3c94614d23be27232e6e5b6c',
    },
    gpu: {
      npmPackage: '@tensorflow/tfjs-node-gpu',
      pipPackage: 'tensorflow',
      // sha256 of tensorflow-2.21.0-cp311-cp311-manylinux_2_27_x86_64.whl as PyPI reports it (pip --report); a local download matched.
      sha256: '9056fbc9ba04235810b71ae6cbd958a196e8804fb53bbcffbf3e23b56155f124',
    },
  },
} as const;

/** Wheel members the binding needs: the two shared libraries and the C API headers (with their includes). */
const WHEEL_LIBS = ['tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'];
const WHEEL_HEADER_DIRS = ['tensorflow/c/', 'tensorflow/core/platform/', 'tsl/', 'xla/tsl/'].map((d) => `tensorflow/include/${d}`);

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface VerifyResult {
  backend: string;
  tfjsNode: string;
  tensorflow: string;
  maxDiff: number;
}

export async function setupTensorflow(opts: SetupTensorflowOptions): Promise<void> {
  const { log } = opts;
  const variant = TENSORFLOW_PINS.variants[opts.gpu ? 'gpu' : 'cpu'];
  const pkgDir = path.join(PROJECT_ROOT, 'node_modules', variant.npmPackage);
  const addon = path.join(pkgDir, `lib/napi-v${TENSORFLOW_PINS.napiVersion}/tfjs_binding.node`);

  if (existsSync(addon)) {
    const ok = await verify(variant.npmPackage).catch((e: Error) => {
      log(`existing build does not work, rebuilding (${firstLine(e.message)})`);
    });
    if (ok && (opts.ifMissing || (ok.tensorflow === TENSORFLOW_PINS.tensorflow && ok.tfjsNode === TENSORFLOW_PINS.tfjsNode))) {
      log(`${variant.npmPackage} already built: backend '${ok.backend}', TensorFlow ${ok.tensorflow}`);
      return;
    }
  }

  const tools = await checkPrerequisites();
  if (opts.gpu) {
    log('--gpu: builds against the CUDA TensorFlow wheel. Only checked to build and run on CPU; CUDA execution is UNTESTED.');
    log('  At run time it needs CUDA 12 + cuDNN 9 libraries on LD_LIBRARY_PATH (e.g. pip nvidia-*-cu12 packages).');
  }

  const wheel = await timed(log, 'download wheel', () => ensureWheel(opts, variant));
  await timed(log, `npm install ${variant.npmPackage}@${TENSORFLOW_PINS.tfjsNode}`, () => installPackage(tools.npmCli, variant.npmPackage));
  await timed(log, 'extract libtensorflow + headers', () => extractWheel(wheel, pkgDir));
  await timed(log, 'compile addon (node-gyp)', () =>
    step(
      'compile addon',
      process.execPath,
      [
        tools.nodeGyp,
        'rebuild',
        `--nodedir=${tools.nodeDir}`,
        '--module_name=tfjs_binding',
        `--module_path=${path.dirname(addon)}`,
        `--napi_build_version=${TENSORFLOW_PINS.napiVersion}`,
      ],
      { cwd: pkgDir, hint: 'see the compiler output below; check that g++, make and python3 work' },
    ),
  );

  const result = await timed(log, 'verify', () => verify(variant.npmPackage));
  log(
    `OK: backend '${result.backend}', tfjs-node ${result.tfjsNode}, TensorFlow ${result.tensorflow}, ` +
      `conv2d max |tensorflow - cpu| = ${result.maxDiff.toExponential(2)}`,
  );
  if (opts.gpu) {
    log(`note: ${variant.npmPackage} is installed with --no-save; add it to optionalDependencies or a plain 'npm install' prunes it.`);
  }
}

interface Tools {
  npmCli: string;
  nodeGyp: string;
  nodeDir: string;
}

async function checkPrerequisites(): Promise<Tools> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`setup tensorflow: only linux x64 is supported (this is ${process.platform} ${process.arch}).`);
  }
  const need = async (cmd: string, args: string[], what: string): Promise<void> => {
    await step(`check ${what}`, cmd, args, { hint: `${what} is required: install it (e.g. apt-get install ${aptName(cmd)})` });
  };
  await need('python3', ['-m', 'pip', '--version'], 'python3 -m pip');
  await need('g++', ['--version'], 'a C++ compiler (g++)');
  await need('make', ['--version'], 'make');

  const nodeDir = [
    process.env.npm_config_nodedir,
    path.resolve(path.dirname(process.execPath), '..'),
    path.join(os.homedir(), '.cache/node-gyp', process.versions.node),
  ].find((d): d is string => !!d && existsSync(path.join(d, 'include/node/node_api.h')) && existsSync(path.join(d, 'include/node/common.gypi')));
  if (!nodeDir) {
    throw new Error(
      `setup tensorflow: step "check node headers" failed: no include/node/node_api.h next to ${process.execPath}. ` +
        'Install the Node.js headers (e.g. the nodejs-dev package, or the official Node tarball) or set npm_config_nodedir.',
    );
  }

  const npmCliCandidates = [process.env.npm_execpath, path.join(await npmGlobalRoot(), 'npm/bin/npm-cli.js')];
  const npmCli = npmCliCandidates.find((p): p is string => !!p && p.endsWith('npm-cli.js') && existsSync(p));
  const nodeGyp = npmCli && path.resolve(path.dirname(npmCli), '../node_modules/node-gyp/bin/node-gyp.js');
  if (!npmCli || !nodeGyp || !existsSync(nodeGyp)) {
    throw new Error('setup tensorflow: step "find npm/node-gyp" failed: npm\'s bundled node-gyp was not found; reinstall npm (npm install -g npm@10).');
  }
  return { npmCli, nodeGyp, nodeDir };
}

async function ensureWheel(opts: SetupTensorflowOptions, variant: (typeof TENSORFLOW_PINS.variants)[keyof typeof TENSORFLOW_PINS.variants]): Promise<string> {
  const dir = path.resolve(opts.wheelDir ?? path.join(PROJECT_ROOT, '.cache/tensorflow-wheel'));
  const prefix = `${variant.pipPackage.replace(/-/g, '_')}-${TENSORFLOW_PINS.tensorflow}-`;
  const find = (): string | undefined => {
    const name = existsSync(dir) ? readdirSync(dir).find((f) => f.startsWith(prefix) && f.endsWith('.whl')) : undefined;
    return name && path.join(dir, name);
  };

  let wheel = find();
  if (wheel && (await sha256(wheel)) !== variant.sha256) {
    opts.log(`cached ${path.basename(wheel)} has the wrong sha256, downloading it again`);
    await rm(wheel);
    wheel = undefined;
  }
  if (!wheel) {
    await mkdir(dir, { recursive: true });
    const spec = `${variant.pipPackage}==${TENSORFLOW_PINS.tensorflow}`;
    opts.log(`downloading ${spec} wheel with pip into ${dir} (${opts.gpu ? '~570' : '~275'} MB)`);
    await step(
      'download wheel',
      'python3',
      [
        '-m',
        'pip',
        'download',
        spec,
        '--no-deps',
        '--only-binary=:all:',
        '--disable-pip-version-check',
        '--progress-bar',
        'off',
        '--python-version',
        TENSORFLOW_PINS.pythonVersion,
        '--implementation',
        'cp',
        '--abi',
        TENSORFLOW_PINS.abi,
        '--platform',
        TENSORFLOW_PINS.platform,
        '--dest',
        dir,
      ],
      {
        hint:
          `pip could not download ${spec} (no network access to PyPI?). Download it on another machine with ` +
          `"pip download ${spec} --no-deps --only-binary=:all: --python-version ${TENSORFLOW_PINS.pythonVersion} ` +
          `--platform ${TENSORFLOW_PINS.platform}", copy it into ${dir} (or pass --wheel-dir) and rerun`,
      },
    );
    wheel = find();
    if (!wheel) throw new Error(`setup tensorflow: step "download wheel" failed: pip reported success but no ${prefix}*.whl is in ${dir}.`);
    const actual = await sha256(wheel);
    if (actual !== variant.sha256) {
      throw new Error(
        `setup tensorflow: step "verify wheel" failed: ${path.basename(wheel)} has sha256 ${actual}, expected ${variant.sha256}. ` +
          'Delete it and rerun; if it persists the download is being tampered with or the pin is wrong.',
      );
    }
  }
  opts.log(`wheel ${path.basename(wheel)} sha256 OK`);
  return wheel;
}

async function installPackage(npmCli: string, npmPackage: string): Promise<void> {
  // --ignore-scripts: the package's own install script would try (and fail) to download libtensorflow.
  // --no-save: leaves package.json/package-lock.json alone; tfjs-node is already an optionalDependency.
  await step(
    'npm install',
    process.execPath,
    [npmCli, 'install', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', `${npmPackage}@${TENSORFLOW_PINS.tfjsNode}`],
    { cwd: PROJECT_ROOT, hint: `npm could not install ${npmPackage}@${TENSORFLOW_PINS.tfjsNode} (no access to the npm registry?)` },
  );

  // A second tfjs-core would give tfjs-node its own engine, invisible to the project's @tensorflow/tfjs.
  const out = await step('check tfjs-core is deduped', process.execPath, [npmCli, 'ls', '@tensorflow/tfjs-core', '--all', '--parseable', '--long'], {
    cwd: PROJECT_ROOT,
    hint: 'run "npm ls @tensorflow/tfjs-core" to inspect the tree',
    anyExitCode: true,
  });
  const copies = [...new Set(out.split('\n').filter((l) => l.includes('@tensorflow/tfjs-core@')))];
  if (copies.length !== 1 || !copies[0]!.includes(`@tensorflow/tfjs-core@${TENSORFLOW_PINS.tfjsNode}`)) {
    throw new Error(
      `setup tensorflow: step "check tfjs-core is deduped" failed: expected one @tensorflow/tfjs-core@${TENSORFLOW_PINS.tfjsNode}, found:\n` +
        copies.join('\n') +
        '\nAlign @tensorflow/* versions in package.json and rerun npm install.',
    );
  }
}

async function extractWheel(wheel: string, pkgDir: string): Promise<void> {
  const deps = path.join(pkgDir, 'deps');
  const tmp = path.join(pkgDir, 'deps.tmp');
  await rm(deps, { recursive: true, force: true });
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  const hint = `the wheel ${wheel} may be corrupt: delete it and rerun`;
  if (await has('unzip')) {
    await step('extract wheel', 'unzip', ['-q', '-o', wheel, ...WHEEL_LIBS, ...WHEEL_HEADER_DIRS.map((d) => `${d}*`), '-d', tmp], { hint });
  } else {
    const py =
      'import sys, zipfile\n' +
      'z = zipfile.ZipFile(sys.argv[1])\n' +
      'wanted = tuple(sys.argv[3:])\n' +
      'z.extractall(sys.argv[2], [n for n in z.namelist() if n.startswith(wanted)])\n';
    await step('extract wheel', 'python3', ['-c', py, wheel, tmp, ...WHEEL_LIBS, ...WHEEL_HEADER_DIRS], { hint });
  }
  await mkdir(path.join(deps, 'lib'), { recursive: true });
  await rename(path.join(tmp, 'tensorflow/include'), path.join(deps, 'include'));
  for (const lib of WHEEL_LIBS) await rename(path.join(tmp, lib), path.join(deps, 'lib', path.basename(lib)));
  await rm(tmp, { recursive: true, force: true });
  // binding.gyp links with -ltensorflow -ltensorflow_framework; the wheel's C API lives in libtensorflow_cc.
  await symlink('libtensorflow_cc.so.2', path.join(deps, 'lib/libtensorflow.so'));
  await symlink('libtensorflow_framework.so.2', path.join(deps, 'lib/libtensorflow_framework.so'));
}

/** Loads the addon in a fresh process, through the project's own @tensorflow/tfjs, and checks a conv2d against cpu. */
async function verify(npmPackage: string): Promise<VerifyResult> {
  const script = `
    import * as tf from '@tensorflow/tfjs';
    const node = await import('${npmPackage}');
    if (!tf.findBackend('tensorflow')) throw new Error('tensorflow backend not visible from @tensorflow/tfjs (duplicate tfjs-core?)');
    await tf.setBackend('tensorflow');
    const run = () => {
      const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 1);
      const k = tf.randomNormal([4, 4, 3, 8], 0, 1, 'float32', 2);
      return tf.conv2d(x, k, 2, 'same').dataSync();
    };
    const a = run(), backend = tf.getBackend(), tensorflow = tf.backend().binding.TF_Version;
    await tf.setBackend('cpu');
    const b = run();
    const maxDiff = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    if (!(maxDiff < 1e-3)) throw new Error('conv2d differs from the cpu backend by ' + maxDiff);
    const version = (node.version ?? node.default.version)['tfjs-node'];
    console.log(JSON.stringify({ backend, tfjsNode: version, tensorflow, maxDiff }));
  `;
  const out = await step('verify', process.execPath, ['--input-type=module', '-e', script], {
    cwd: PROJECT_ROOT,
    hint: `${npmPackage} was built but does not load or compute correctly`,
  });
  return JSON.parse(out.trim().split('\n').pop()!) as VerifyResult;
}

interface StepOptions {
  cwd?: string;
  hint: string;
  /** npm ls exits 1 for unrelated tree problems; its output is still what we need. */
  anyExitCode?: boolean;
}

/** Runs a command; on failure throws an Error naming the step, the fix, and the tail of its output. */
function step(name: string, cmd: string, args: string[], opts: StepOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const fail = (why: string, output = ''): void => {
      const tail = output.trim().split('\n').slice(-25).join('\n');
      reject(new Error(`setup tensorflow: step "${name}" failed (${why}): ${opts.hint}.${tail ? `\n--- output ---\n${tail}` : ''}`));
    };
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let all = '';
    child.stdout.on('data', (d: Buffer) => ((stdout += d), (all += d)));
    child.stderr.on('data', (d: Buffer) => (all += d));
    child.on('error', (e) => fail(`${cmd}: ${e.message}`));
    child.on('close', (code, signal) => (code === 0 || opts.anyExitCode ? resolve(stdout) : fail(signal ? `killed by ${signal}` : `exit code ${code}`, all)));
  });
}

async function has(cmd: string): Promise<boolean> {
  return step('which', 'sh', ['-c', `command -v ${cmd}`], { hint: '' }).then(
    () => true,
    () => false,
  );
}

async function npmGlobalRoot(): Promise<string> {
  // npm's install dir is <prefix>/lib/node_modules/npm next to the node binary on standard installs.
  const guess = path.resolve(path.dirname(process.execPath), '../lib/node_modules');
  if (existsSync(path.join(guess, 'npm/bin/npm-cli.js'))) return guess;
  return (await step('find npm', 'npm', ['root', '-g'], { hint: 'npm is not on PATH' })).trim();
}

function sha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

async function timed<T>(log: (line: string) => void, name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  log(`${name}...`);
  const r = await fn();
  log(`${name}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return r;
}

function aptName(cmd: string): string {
  return cmd === 'python3' ? 'python3-pip' : cmd;
}

function firstLine(s: string): string {
  return s.split('\n')[0]!;
}
