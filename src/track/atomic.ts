import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Writes a file so that readers see the old content or the new, never half of it. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, data);
  renameSync(temporary, path);
}

/** Fills a fresh folder through `fill`, then renames it into place: a crash leaves no half-written folder. */
export async function writeDirAtomic(path: string, fill: (temporary: string) => Promise<void> | void): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`;
  rmSync(temporary, { recursive: true, force: true });
  mkdirSync(temporary, { recursive: true });
  await fill(temporary);
  rmSync(path, { recursive: true, force: true });
  renameSync(temporary, path);
}
