/** A private Mosquitto on a free port with a configuration of ours (the machine's own, on 1883, is left alone). */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';

export function mosquittoBinary(): string {
  for (const p of ['/usr/sbin/mosquitto', '/usr/bin/mosquitto']) {
    if (spawnSync(p, ['-h']).error === undefined) return p;
  }
  throw new Error('mosquitto is not installed: apt-get install mosquitto (.ci/services-up does this) — the Mosquitto interop suite needs it');
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

export interface Mosquitto {
  readonly process: ChildProcess;
  readonly output: () => string;
  reload(): void;
  stop(): Promise<void>;
}

export async function startMosquitto(conf: string, port: number): Promise<Mosquitto> {
  const child = spawn(mosquittoBinary(), ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const end = performance.now() + 10_000;
  while (!(await portOpen(port))) {
    if (child.exitCode !== null || performance.now() > end) throw new Error(`mosquitto did not start (exit ${child.exitCode}): ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    process: child,
    output: () => out,
    reload: () => child.kill('SIGHUP'),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
