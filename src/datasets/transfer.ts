// Moving a dataset file into the cache: from a URL or a local file, through an MD5 check, atomically. The
// bytes go to a temp file beside the destination, renamed into place only when the sum matches, so neither
// a crash nor a concurrent run ever sees half a file, and a file with the wrong sum is never kept.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** The bytes arrived but are not the file that was asked for. */
export class ChecksumMismatch extends Error {
  constructor(
    readonly got: string,
    readonly expected: string,
  ) {
    super(`MD5 ${got}, not the published ${expected}`);
  }
}

export interface Incoming {
  chunks: AsyncIterable<Uint8Array>;
  /** Bytes to expect, when the source says. */
  total?: number;
}

export type OnBytes = (received: number, total: number | undefined) => void;

/** Writes `incoming` to `dest` if its MD5 is `md5`; otherwise throws (ChecksumMismatch or the read error) and leaves nothing. */
export async function writeVerified(incoming: Incoming, dest: string, md5: string, onBytes?: OnBytes): Promise<void> {
  await mkdir(dirname(dest), { recursive: true });
  const temp = `${dest}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  const hash = createHash('md5');
  let received = 0;
  try {
    const file = await open(temp, 'w');
    try {
      for await (const chunk of incoming.chunks) {
        hash.update(chunk);
        await file.write(chunk);
        received += chunk.byteLength;
        onBytes?.(received, incoming.total);
      }
    } finally {
      await file.close();
    }
    const got = hash.digest('hex');
    if (got !== md5) throw new ChecksumMismatch(got, md5);
    await rename(temp, dest);
  } finally {
    await rm(temp, { force: true });
  }
}

export function fromFile(file: string, size: number): Incoming {
  return { chunks: createReadStream(file), total: size };
}

/**
 * The body of a GET of `url`. A server that sends nothing for `idleTimeoutMs` (before the headers or between
 * chunks) fails the transfer, so a stalled mirror gives way to the next one instead of hanging the run.
 */
export async function fromUrl(url: string, idleTimeoutMs: number): Promise<Incoming> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new Error(`no data for ${idleTimeoutMs / 1000} s`)), idleTimeoutMs);
  };
  arm();
  let response: Response;
  try {
    response = await fetch(url, { signal: controller.signal, redirect: 'follow' });
  } catch (error) {
    clearTimeout(timer);
    throw new Error(describeFetchError(error, controller.signal));
  }
  if (!response.ok || !response.body) {
    clearTimeout(timer);
    await response.body?.cancel();
    throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
  }
  const length = Number(response.headers.get('content-length'));
  const body = response.body;
  async function* chunks(): AsyncIterable<Uint8Array> {
    try {
      for await (const chunk of body) {
        arm();
        yield chunk;
      }
    } catch (error) {
      throw new Error(`the download broke off: ${describeFetchError(error, controller.signal)}`);
    } finally {
      clearTimeout(timer);
    }
  }
  return { chunks: chunks(), total: Number.isFinite(length) && length > 0 ? length : undefined };
}

/** fetch's errors say "fetch failed" and hide the reason in `cause`; an abort's reason is ours. */
function describeFetchError(error: unknown, signal: AbortSignal): string {
  if (signal.aborted) return (signal.reason as Error).message;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
