// A static file server on 127.0.0.1 standing in for a dataset mirror, with the faults real mirrors show:
// a missing file, a connection cut mid-body, corrupted bytes, a stall.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';

export type Fault = 'notFound' | 'cut' | 'corrupt' | 'stall';

export interface FileServer {
  /** Base URL, ending in "/". */
  url: string;
  /** Files served, by name -> every request for them fails this way (until deleted). */
  faults: Map<string, Fault>;
  /** Request paths, in order. */
  requests: string[];
  close(): Promise<void>;
}

export async function startFileServer(dir: string, files: string[]): Promise<FileServer> {
  const bodies = new Map(files.map((file) => [file, readFileSync(join(dir, file))]));
  const faults = new Map<string, Fault>();
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    requests.push(request.url ?? '');
    const name = basename(request.url ?? '');
    const body = bodies.get(name);
    const fault = faults.get(name);
    if (!body || fault === 'notFound') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/gzip', 'content-length': body.length });
    if (fault === 'stall') return response.flushHeaders();
    if (fault === 'cut') {
      response.write(body.subarray(0, body.length >> 1), () => response.destroy());
      return;
    }
    if (fault === 'corrupt') {
      const copy = Buffer.from(body);
      copy[copy.length >> 1] ^= 0xff;
      return response.end(copy);
    }
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    faults,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A base URL on which nothing listens: connections are refused, as when offline. */
export async function refusingUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/`;
}
