import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Writes a file so that readers see the old content or the new, never half of it. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(temporary, data);
    renameSync(temporary, path);
  } catch (error) {
    removeAfterFailure(temporary);
    throw error;
  }
}

/** Fills a fresh folder through `fill`, then renames it into place: a crash leaves no half-written folder. */
export async function writeDirAtomic(path: string, fill: (temporary: string) => Promise<void> | void): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}`;
  rmSync(temporary, { recursive: true, force: true });
  try {
    mkdirSync(temporary, { recursive: true });
    await fill(temporary);
    rmSync(path, { recursive: true, force: true });
    renameSync(temporary, path);
  } catch (error) {
    removeAfterFailure(temporary);
    throw error;
  }
}

/** Words for the errors of a full disk, or undefined for any other error. */
export function diskFullReason(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOSPC' ? 'no space left on device' : code === 'EDQUOT' ? 'disk quota exceeded' : undefined;
}

/** A failed write's leftovers would keep a full disk full; the write's own error is the one to report. */
function removeAfterFailure(temporary: string): void {
  try {
    rmSync(temporary, { recursive: true, force: true });
  } catch {
    // Left for the next write to replace: the error worth reporting is the write's.
  }
}
