// Named float32 tensors passed to and from test/parity/lesson_dcgan.py: <stem>.json holds a free-form
// `meta` object and each tensor's name, shape and offset (in elements) into <stem>.bin (little-endian float32).
import { readFileSync, writeFileSync } from 'node:fs';

export interface NamedTensor {
  shape: number[];
  data: Float32Array;
}

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
