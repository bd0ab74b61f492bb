/**
 * The host under simulation, as a hospital runs it: `vigil host` in a process of its own, with its
 * embedded broker, on ports chosen once so that a restart (after SIGTERM, or SIGKILL: a crashed host)
 * comes back where the gateways expect it. Its console goes to host.log in the data directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface HostProcess {
  readonly brokerPort: number;
  readonly httpUrl: string;
  readonly pid: number | undefined;
  /** Stops it: SIGTERM (a clean stop) or SIGKILL (a crash); resolves when it has exited. */
  stop(signal: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Starts it again on the same ports and data; resolves when its API answers. */
  start(): Promise<void>;
}

const VIGIL = fileURLToPath(new URL('../../bin/vigil.mjs', import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a !== null && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * `entry`: the script that runs `vigil` (bin/vigil.mjs; a test gives a deliberately broken build here).
 */
export async function startHostProcess(dataDir: string, opts: { entry?: string; brokerPort?: number; httpPort?: number } = {}): Promise<HostProcess> {
  const brokerPort = opts.brokerPort ?? (await freePort());
  const httpPort = opts.httpPort ?? (await freePort());
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  async function start(): Promise<void> {
    const log = openSync(join(dataDir, 'host.log'), 'a');
    const args = opts.entry === undefined ? [VIGIL] : ['--import', 'tsx', opts.entry];
    const c = spawn(process.execPath, [...args, 'host', '--data-dir', dataDir, '--broker-port', String(brokerPort), '--http-port', String(httpPort)], { stdio: ['ignore', log, log] });
    closeSync(log);
    child = c;
    let code: number | null | undefined;
    exited = new Promise((resolve) => c.once('exit', (n) => resolve(void (code = n))));
    const end = performance.now() + 60_000;
    for (;;) {
      if (code !== undefined) throw new Error(`the host exited (${code}) while starting: see ${join(dataDir, 'host.log')}`);
      try {
        if ((await fetch(`${httpUrl}/api/health`)).status < 500) return;
      } catch {
        // not listening yet
      }
      if (performance.now() > end) throw new Error(`the host did not answer on ${httpUrl} within 60 s: see ${join(dataDir, 'host.log')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  await start();
  return {
    brokerPort,
    httpUrl,
    get pid() {
      return child?.pid;
    },
    async stop(signal) {
      const c = child;
      c?.kill(signal);
      // a clean stop that does not end within 20 s is ended as a crash would be
      const hard = signal === 'SIGTERM' ? setTimeout(() => c?.kill('SIGKILL'), 20_000) : undefined;
      await exited;
      if (hard !== undefined) clearTimeout(hard);
      child = undefined;
    },
    start,
  };
}
