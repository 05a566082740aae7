// Whether a folder can be made and written, checked before work that would be lost if it cannot.
import { accessSync, constants, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from '../errors.ts';

/**
 * Throws a UserError naming `key` and `folder` when `folder` could not be made or written; makes nothing.
 * The nearest part of its path that exists decides: it must be a folder that this process may write into.
 */
export function checkWritableFolder(folder: string, key: string): void {
  let existing = resolve(folder);
  let info: Stats | undefined;
  while (!(info = statIfExists(existing))) existing = dirname(existing);
  const cannot = `${key}: cannot write into ${folder}`;
  if (!info.isDirectory()) throw new UserError(`${cannot}: ${existing} is a file, not a folder`);
  try {
    accessSync(existing, constants.W_OK | constants.X_OK);
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    const why =
      code === 'EROFS'
        ? 'is on a read-only file system'
        : code === 'EACCES' || code === 'EPERM'
          ? 'is not writable by this user'
          : `cannot be written (${(error as Error).message})`;
    throw new UserError(`${cannot}: ${existing} ${why}`);
  }
}

/** A path's stats; undefined where it does not exist, also when a part of it is a file (ENOTDIR). */
function statIfExists(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (error) {
    const { code } = error as NodeJS.ErrnoException;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}
