/**
 * A simulated device on a real serial device path: the project's simulated pump, monitor or
 * ventilator (devices/device.ts) speaking the framed device link over a tty, such as one end of a pty
 * pair made by socat, whose other end a gateway built with the Moddable SDK opens as its
 * `embedded:io/serial`. The same link the ESP32 runs on its UART.
 */
import { closeSync, constants, createReadStream, openSync, writeSync, type ReadStream } from 'node:fs';
import type { DeviceKind } from '../firmware/core/command/profile.js';
import { deviceClock } from './device-clock.js';
import { createSimulatedDevice, type SimulatedDevice } from './devices/device.js';

export interface DeviceOnPath {
  readonly device: SimulatedDevice;
  stop(): void;
}

export function simulatedDeviceOnPath(opts: { kind: DeviceKind; serial: string; seed: number; path: string }): DeviceOnPath {
  const device = createSimulatedDevice({ kind: opts.kind, serial: opts.serial, seed: opts.seed });
  // O_NOCTTY: a process without a terminal (vigil firmware run in its own session) must not take the
  // pty as its controlling terminal, or the pty's hang-up at the end would kill it with SIGHUP
  const fd = openSync(opts.path, constants.O_RDWR | constants.O_NOCTTY);
  const clock = deviceClock(device, (chunks) => {
    for (const c of chunks) {
      try {
        if (!clock.stopped) writeSync(fd, c);
      } catch {
        // the other end is gone for now (the gateway restarting): the link retransmits
      }
    }
  });
  const input: ReadStream = createReadStream('', { fd, autoClose: false });
  input.on('data', (b) => clock.send(device.receive(new Uint8Array(b as Buffer), clock.now())));
  input.on('error', () => undefined);
  clock.start();
  return {
    device,
    stop() {
      clock.stop();
      input.destroy();
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    },
  };
}
