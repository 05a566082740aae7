import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

/** A TCP forwarder to the server that can be cut (connections refused, open ones dropped) and restored on the same port. */
export async function startSwitchProxy(targetUri: string) {
  const target = new URL(targetUri);
  const sockets = new Set<Socket>();
  let listener: Server | undefined;
  let port = 0;
  const up = () =>
    new Promise<void>((done, reject) => {
      listener = createServer((socket) => {
        const upstream = connect(Number(target.port), target.hostname);
        for (const s of [socket, upstream]) {
          sockets.add(s);
          s.on('error', () => {});
          s.on('close', () => {
            sockets.delete(s);
            socket.destroy();
            upstream.destroy();
          });
        }
        socket.pipe(upstream).pipe(socket);
      });
      listener.once('error', reject);
      listener.listen(port, '127.0.0.1', () => {
        port = (listener!.address() as AddressInfo).port;
        done();
      });
    });
  const down = () => {
    listener?.close();
    listener = undefined;
    for (const s of sockets) s.destroy();
  };
  await up();
  return { uri: `http://127.0.0.1:${port}`, up, down };
}
