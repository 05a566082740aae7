// Named float32 tensors passed to and from test/parity/lesson_dcgan.py: <stem>.json holds a free-form
// `meta` object and each tensor's name, shape and offset (in elements) into <stem>.bin (little-endian float32).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { needs } from '../support/requirements.ts';

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

/** A float32 tensor's shape and values, read synchronously, as the exchange files hold them. */
export const namedTensor = (t: tf.Tensor): NamedTensor => ({ shape: [...t.shape], data: t.dataSync() as Float32Array });

interface Manifest {
  meta: unknown;
  tensors: { name: string; shape: number[]; offset: number }[];
}

export function writeTensors(stem: string, meta: unknown, tensors: Map<string, NamedTensor>): void {
  const manifest: Manifest = { meta, tensors: [] };
  let total = 0;
  for (const [name, t] of tensors) {
    if (t.data.length !== t.shape.reduce((a, b) => a * b, 1)) throw new Error(`${name}: shape ${t.shape} vs ${t.data.length} values`);
    manifest.tensors.push({ name, shape: t.shape, offset: total });
    total += t.data.length;
  }
  const all = new Float32Array(total);
  let at = 0;
  for (const t of tensors.values()) {
    all.set(t.data, at);
    at += t.data.length;
  }
  writeFileSync(`${stem}.json`, JSON.stringify(manifest));
  writeFileSync(`${stem}.bin`, new Uint8Array(all.buffer));
}

export function readTensors(stem: string): { meta: unknown; tensors: Map<string, NamedTensor> } {
  const manifest = JSON.parse(readFileSync(`${stem}.json`, 'utf8')) as Manifest;
  const bytes = readFileSync(`${stem}.bin`);
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const tensors = new Map<string, NamedTensor>();
  for (const { name, shape, offset } of manifest.tensors) {
    const size = shape.reduce((a, b) => a * b, 1);
    tensors.set(name, { shape, data: all.slice(offset, offset + size) });
  }
  return { meta: manifest.meta, tensors };
}

/** The interpreter for the PyTorch scripts: Debian's python3-torch, or PARITY_PYTHON. */
export const PARITY_PYTHON = process.env.PARITY_PYTHON ?? '/usr/bin/python3';

/** The interpreter for the Optuna references: the python3 that `python3 -m pip install optuna` installed into, or PARITY_PYTHON. */
export const OPTUNA_PYTHON = process.env.PARITY_PYTHON ?? 'python3';

/** false where OPTUNA_PYTHON imports optuna, else the reason the TPE and ASHA parity tests are skipped. */
export function optunaSkip(): string | false {
  const found = spawnSync(OPTUNA_PYTHON, ['-c', 'import optuna'], { stdio: 'ignore' }).status === 0;
  return needs('optuna', found ? false : `${OPTUNA_PYTHON} without optuna: python3 -m pip install optuna`);
}

/** false where PARITY_PYTHON imports torch and numpy, else the reason the parity tests are skipped. */
export function torchSkip(): string | false {
  const found = spawnSync(PARITY_PYTHON, ['-c', 'import torch, numpy'], { stdio: 'ignore' }).status === 0;
  return needs('torch', found ? false : 'python3 with torch not found: apt-get install python3-torch (or set PARITY_PYTHON)');
}

/** Writes `meta` and `input` to a fresh directory, runs `script <dir>` under PARITY_PYTHON, returns the tensors it wrote. */
export function runTorchScript(script: string, meta: unknown, input: Map<string, NamedTensor>): Map<string, NamedTensor> {
  return runTorchScriptWithMeta(script, meta, input).tensors;
}

/** runTorchScript, with the `meta` object the script wrote next to its tensors. */
export function runTorchScriptWithMeta(script: string, meta: unknown, input: Map<string, NamedTensor>): { meta: unknown; tensors: Map<string, NamedTensor> } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dcgan-parity-'));
  try {
    writeTensors(path.join(dir, 'input'), meta, input);
    const run = spawnSync(PARITY_PYTHON, [script, dir], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`${PARITY_PYTHON} ${script} failed:\n${run.stderr}`);
    return readTensors(path.join(dir, 'output'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
