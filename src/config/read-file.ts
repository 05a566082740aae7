import { closeSync, constants, openSync, readSync, statSync, type Stats } from 'node:fs';

/** A config is a small text file: anything bigger is a mistake (a dataset, a log), not something to parse. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** The text of a config file, or why it cannot be one (`missing` when there is no such file). */
export type ConfigText = { text: string } | { problem: string; missing: boolean };

// Rounded up, so a file just over the limit does not read as being at it.
const mib = (bytes: number) => `${(Math.ceil((bytes / 1024 / 1024) * 10) / 10).toFixed(1)} MiB`;

function notAFile(stats: Stats): string | undefined {
  if (stats.isFile()) return undefined;
  const what = stats.isDirectory() ? 'a directory' : stats.isFIFO() ? 'a named pipe (FIFO)' : stats.isSocket() ? 'a socket' : 'a device';
  return `is ${what}, not a config file`;
}

const LIMIT = `more than the ${MAX_CONFIG_BYTES / 1024 / 1024} MiB a config file may be`;

/**
 * Reads a config file. Only a regular file is opened, after a stat (a FIFO would block the open, a device
 * such as /dev/zero never ends), and no more than MAX_CONFIG_BYTES are read, even from a file that grows.
 */
export function readConfigText(file: string): ConfigText {
  let stats: Stats;
  try {
    stats = statSync(file);
  } catch (error) {
    return unreadable(error);
  }
  const problem = notAFile(stats) ?? (stats.size > MAX_CONFIG_BYTES ? `is ${mib(stats.size)}, ${LIMIT}` : undefined);
  if (problem) return { problem, missing: false };

  let fd: number;
  try {
    // Non-blocking, so a file swapped for a FIFO since the stat cannot hang the open.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    return unreadable(error);
  }
  const buffer = Buffer.alloc(MAX_CONFIG_BYTES + 1);
  let length = 0;
  try {
    let read: number;
    while (length < buffer.length && (read = readSync(fd, buffer, length, buffer.length - length, null)) > 0) length += read;
  } finally {
    closeSync(fd);
  }
  if (length > MAX_CONFIG_BYTES) return { problem: `is ${LIMIT}`, missing: false };
  // A UTF-8 byte-order mark is encoding, not content: kept, it would shift every column of line 1.
  return { text: buffer.toString('utf8', 0, length).replace(/^\uFEFF/, '') };
}

function unreadable(error: unknown): ConfigText {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return { problem: 'no such file', missing: true };
  if (code === 'EACCES' || code === 'EPERM') return { problem: 'cannot be read: permission denied', missing: false };
  throw error;
}
