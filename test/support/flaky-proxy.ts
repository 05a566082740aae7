import { createServer, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

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
  close(): Promise<void>;
}

/** HTTP proxy in front of a real server that can fail chosen requests (a real MLflow won't send 503/429 on demand). */
export async function startFlakyProxy(targetUri: string): Promise<FlakyProxy> {
  const target = new URL(targetUri);
  const queue: Failure[] = [];
  const seen: SeenRequest[] = [];

  const server = createServer((req, res) => {
    const failure = queue.shift();
    seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, forwarded: !failure });
    if (failure) {
      req.resume();
      res.writeHead(failure.status, { "content-type": "application/json", ...failure.headers });
      res.end(failure.body ?? JSON.stringify({ error_code: "TEMPORARILY_UNAVAILABLE", message: "injected by flaky proxy" }));
      return;
    }
    const upstream = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", (err) => {
      res.writeHead(502, { "content-type": "text/plain" });
      res.end(`proxy: upstream error ${err.message}`);
    });
    req.pipe(upstream);
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    uri: `http://127.0.0.1:${port}`,
    seen,
    failNext: (...failures) => queue.push(...failures),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
