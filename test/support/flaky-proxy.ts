import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A canned response the proxy gives instead of forwarding. */
export interface Failure {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** False when answered with a canned failure. */
  forwarded: boolean;
}

export interface FlakyProxy {
  uri: string;
  /** Every request received, in order. */
  seen: SeenRequest[];
  /** Queue failures: the next requests get these, in order, then forwarding resumes. */
  failNext(...failures: Failure[]): void;
  /** Every request gets this failure until heal(). */
  failAll(failure: Failure): void;
  /** Requests are held unanswered (a stalled server) until heal(); those whose client gave up are never forwarded. */
  stall(): void;
  /**
   * Upload bodies (PUT; those whose URL matches `only`, when given) reach the server at this many bytes per second;
   * 0 holds them until the next throttle(); undefined ends throttling.
   */
  throttle(bytesPerSecond: number | undefined, only?: RegExp): void;
  /** Uploads being sent through the throttle now. */
  readonly uploadsInFlight: number;
  /** Ends failAll() and stall(): held requests whose client still waits are forwarded. */
  heal(): void;
  close(): Promise<void>;
}

/** HTTP proxy in front of a real server that can fail, stall or slow chosen requests (a real MLflow won't do so on demand). */
export async function startFlakyProxy(targetUri: string): Promise<FlakyProxy> {
  const target = new URL(targetUri);
  const queue: Failure[] = [];
  const seen: SeenRequest[] = [];
  let always: Failure | undefined;
  let stalled = false;
  let held: (() => void)[] = [];
  let rate: number | undefined;
  let throttledUrls: RegExp | undefined;
  let rateChanged: (() => void)[] = [];
  let uploadsInFlight = 0;

  const fail = (res: ServerResponse, req: IncomingMessage, failure: Failure) => {
    req.resume();
    res.writeHead(failure.status, { 'content-type': 'application/json', ...failure.headers });
    res.end(failure.body ?? JSON.stringify({ error_code: 'TEMPORARILY_UNAVAILABLE', message: 'injected by flaky proxy' }));
  };

  /** Writes the body upstream at `rate` bytes per second, a slice at a time. */
  const throttled = async (req: IncomingMessage, upstream: ReturnType<typeof httpRequest>) => {
    uploadsInFlight++;
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        for (let at = 0; at < chunk.length;) {
          while (rate === 0) await new Promise<void>((resolve) => rateChanged.push(resolve));
          if (rate === undefined) {
            upstream.write(chunk.subarray(at));
            break;
          }
          const slice = chunk.subarray(at, at + Math.max(1, Math.round(rate / 20)));
          upstream.write(slice);
          at += slice.length;
          await new Promise((resolve) => setTimeout(resolve, (slice.length / rate!) * 1000));
        }
      }
      upstream.end();
    } finally {
      uploadsInFlight--;
    }
  };

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', (err) => {
      if (res.headersSent) return void res.destroy();
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: upstream error ${err.message}`);
    });
    // The client gave up (a timeout): the server never gets the rest.
    res.on('close', () => !res.writableFinished && upstream.destroy());
    if (req.method === 'PUT' && rate !== undefined && (!throttledUrls || throttledUrls.test(req.url ?? '')))
      void throttled(req, upstream).catch(() => upstream.destroy());
    else req.pipe(upstream);
  };

  const server = createServer((req, res) => {
    const failure = queue.shift() ?? always;
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, forwarded: !failure });
    if (failure) return fail(res, req, failure);
    if (stalled) {
      req.pause();
      held.push(() => {
        if (res.socket && !res.socket.destroyed) forward(req, res);
      });
      return;
    }
    forward(req, res);
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    uri: `http://127.0.0.1:${port}`,
    seen,
    failNext: (...failures) => queue.push(...failures),
    failAll: (failure) => (always = failure),
    stall: () => (stalled = true),
    throttle: (bytesPerSecond, only) => {
      rate = bytesPerSecond;
      throttledUrls = only;
      const waiting = rateChanged;
      rateChanged = [];
      for (const resume of waiting) resume();
    },
    get uploadsInFlight() {
      return uploadsInFlight;
    },
    heal: () => {
      always = undefined;
      stalled = false;
      const waiting = held;
      held = [];
      for (const release of waiting) release();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
