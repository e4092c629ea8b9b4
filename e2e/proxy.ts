/**
 * A loopback TCP proxy a test can cut: to the page, a cut looks like the server going away
 * (every connection reset, new ones refused), while the server behind it keeps its history.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface Proxy {
  readonly port: number;
  /** resets every connection and stops accepting new ones */
  cut(): Promise<void>;
  /** accepts connections again, on the same port */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startProxy(port: number, targetPort: number): Promise<Proxy> {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = connect(targetPort, '127.0.0.1');
        sockets.add(client).add(upstream);
        const drop = (): void => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
      server = s;
    });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      for (const socket of sockets) socket.resetAndDestroy();
      sockets.clear();
      if (!server) return resolve();
      const s = server;
      server = null;
      s.close(() => resolve());
    });
  await listen();
  return { port, cut: stop, restore: listen, close: stop };
}
