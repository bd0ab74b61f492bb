/**
 * `vigil firmware run`: the Linux build of the firmware on Moddable's own runtime (mcsim, headless
 * under Xvfb), its device link on a pty pair made by socat, and the project's simulated device on the
 * other end of it: the same framed serial link the ESP32 runs on its UART, through Moddable's
 * `embedded:io/serial`. The gateway talks to whatever broker it was built for.
 *
 * Everything it starts runs in process groups of its own and is stopped by their PIDs when this
 * command is stopped (Ctrl-C, or `kill <pid>` with the PID it prints), when --duration ends, or when
 * the firmware exits. It never looks processes up by name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { DeviceKind } from '../../firmware/core/command/index.js';
import { simulatedDeviceOnPath, type DeviceOnPath } from '../../simulator/device-serial.js';
import { wholeNumber } from '../args.js';
import { UsageError } from '../command.js';
import { defaultOut } from './plan.js';
import { missingRuntime, toolPath, type Platform } from './toolchain.js';

/** What `vigil firmware build --platform lin` leaves beside the app (vigil-firmware.json). */
export interface BuildRecord {
  readonly platform: Platform;
  readonly site: string;
  readonly gateway: string;
  readonly broker: string;
  readonly serialDevice: string;
  readonly flashFile: string;
  readonly app: string;
}

const KINDS: readonly DeviceKind[] = ['pump', 'ventilator', 'monitor'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readRecord(out: string): BuildRecord {
  const file = join(out, 'vigil-firmware.json');
  if (!existsSync(file)) throw new UsageError(`no Linux firmware build in ${out}: run "vigil firmware build --platform lin --out ${out} …" first`);
  const record = JSON.parse(readFileSync(file, 'utf8')) as BuildRecord;
  if (record.platform !== 'lin') throw new UsageError(`${out} holds a ${record.platform} build; only a lin build runs here`);
  if (!existsSync(record.app)) throw new UsageError(`${record.app} is missing: build again`);
  return record;
}

/** A child in its own process group, stopped with the whole group by its PID. */
function group(cmd: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
}

/** Stops a child started by `group` with its whole process group; resolves when it has exited. */
export function stopGroup(child: ChildProcess | undefined): Promise<void> {
  if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    // already gone
  }
  return exited;
}

/**
 * A Moddable Linux app (`mc.so`) in mcsim, headless under Xvfb, in a process group of its own. stdbuf:
 * without a line-buffered stdout, mcsim's trace is lost when it is stopped.
 */
export function startMcsim(app: string, env: NodeJS.ProcessEnv): ChildProcess {
  mkdirSync(join(homedir(), '.config', 'tech.moddable.mcsim'), { recursive: true });
  return group('xvfb-run', ['-a', 'stdbuf', '-oL', 'mcsim', app], env);
}

async function linkPty(serialDevice: string, env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const socat = group('socat', [`pty,raw,echo=0,link=${serialDevice}`, `pty,raw,echo=0,link=${serialDevice}.device`], env);
  socat.stderr?.pipe(process.stderr);
  for (let i = 0; i < 100 && !(existsSync(serialDevice) && existsSync(`${serialDevice}.device`)); i++) await sleep(50);
  if (!existsSync(`${serialDevice}.device`)) {
    await stopGroup(socat);
    throw new Error(`socat did not make the pty pair ${serialDevice} / ${serialDevice}.device`);
  }
  return socat;
}

function watchSettings(device: DeviceOnPath): NodeJS.Timeout {
  const last = new Map(device.device.settings);
  return setInterval(() => {
    for (const [name, value] of device.device.settings) {
      const before = last.get(name);
      if (JSON.stringify(before) === JSON.stringify(value)) continue;
      console.log(`device ${device.device.serial}: ${name} ${JSON.stringify(before)} -> ${JSON.stringify(value)}`);
      last.set(name, value);
    }
  }, 250);
}

export async function runFirmware(args: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { out: { type: 'string' }, device: { type: 'string' }, serial: { type: 'string' }, seed: { type: 'string' }, duration: { type: 'string' } },
    strict: true,
  });
  const kind = (values.device ?? 'pump') as DeviceKind;
  if (!KINDS.includes(kind)) throw new UsageError(`--device is one of ${KINDS.join(', ')}, got "${values.device}"`);
  const seed = values.seed === undefined ? 1 : wholeNumber(values.seed, '--seed');
  const duration = values.duration === undefined ? undefined : wholeNumber(values.duration, '--duration', 1);
  const record = readRecord(resolve(values.out ?? defaultOut('lin')));
  const missing = missingRuntime(process.env);
  if (missing.length > 0) {
    console.error(`vigil firmware run: cannot run here; missing:\n${missing.map((m) => `  - ${m}`).join('\n')}`);
    return 1;
  }
  const env = { ...process.env, PATH: toolPath(process.env) };
  const socat = await linkPty(record.serialDevice, env);
  const serial = values.serial ?? `${kind.toUpperCase().slice(0, 4)}-LIN-${seed}`;
  const device = simulatedDeviceOnPath({ kind, serial, seed, path: `${record.serialDevice}.device` });
  const sim = startMcsim(record.app, env);
  sim.stdout?.pipe(process.stdout);
  sim.stderr?.pipe(process.stderr);
  console.log(`vigil firmware run: pid ${process.pid} (stop with kill ${process.pid}); firmware ${record.gateway} of ${record.site} in mcsim, process group ${sim.pid}; broker ${record.broker}; device ${kind} ${serial} on ${record.serialDevice}; flash ${record.flashFile}`);
  const watcher = watchSettings(device);

  const code = await new Promise<number>((done) => {
    const stop = (why: string, exit: number) => () => {
      console.log(`vigil firmware run: stopping (${why})`);
      done(exit);
    };
    process.once('SIGINT', stop('SIGINT', 0));
    process.once('SIGTERM', stop('SIGTERM', 0));
    sim.once('exit', (c, signal) => stop(`the firmware exited: ${c ?? signal}`, c === 0 ? 0 : 1)());
    // an XS abort leaves mcsim running with a dead machine; on the ESP32 it would reset the chip
    sim.stdout?.on('data', (b: Buffer) => {
      const abort = /XS abort: [^\n]*/.exec(b.toString('utf8'));
      if (abort !== null) stop(`the firmware stopped: ${abort[0]}`, 1)();
    });
    if (duration !== undefined) setTimeout(stop(`--duration ${duration} s`, 0), duration * 1000).unref();
  });
  clearInterval(watcher);
  device.stop();
  await Promise.all([stopGroup(sim), stopGroup(socat)]);
  return code;
}
