/** An embedded aedes broker on a free loopback port that a test can take down and bring back. */
import { Aedes } from 'aedes';
import { createServer, type Server, type Socket } from 'node:net';

export interface TestBroker {
  readonly url: string;
  readonly port: number;
  /** Closes the listener and every connection: an outage. */
  down(): Promise<void>;
  /** Listens again on the same port; retained messages survive (same broker instance). */
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestBroker(): Promise<TestBroker> {
  const broker = await Aedes.createBroker();
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        broker.handle(socket);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const a = server!.address();
        if (a !== null && typeof a === 'object') port = a.port;
        resolve();
      });
    });
  const down = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      sockets.clear();
      if (server === undefined) return resolve();
      server.close(() => resolve());
      server = undefined;
    });
  await listen();
  return {
    get url() {
      return `mqtt://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    down,
    up: listen,
    async close() {
      await down();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}
