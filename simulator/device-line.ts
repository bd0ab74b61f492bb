/**
 * A simulated device on a simulated serial line, driven by Node timers: the SerialPort the runtime
 * writes to, with byte loss and corruption in both directions (simulator/line.ts).
 */
import type { DeviceKind } from '../firmware/core/command/profile.js';
import { createLine, type LineFaults } from './line.js';
import { createSimulatedDevice, type SimulatedDevice } from './devices/device.js';
import type { SerialPort } from '../firmware/platform/node/runtime.js';

export interface DeviceOnLine {
  readonly port: SerialPort;
  readonly device: SimulatedDevice;
  stop(): void;
}

export function simulatedDeviceOnLine(opts: { kind: DeviceKind; serial: string; seed: number; faults: LineFaults }): DeviceOnLine {
  const device = createSimulatedDevice({ kind: opts.kind, serial: opts.serial, seed: opts.seed });
  const toDevice = createLine(opts.faults, opts.seed + 11);
  const toGateway = createLine(opts.faults, opts.seed + 12);
  const started = performance.now();
  const now = () => performance.now() - started;
  let listener: ((bytes: Uint8Array) => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const emit = (chunks: Uint8Array[]) => {
    for (const c of chunks) {
      const arrived = toGateway.pass(c);
      if (arrived.length > 0) setImmediate(() => !stopped && listener?.(arrived));
    }
  };
  const schedule = () => {
    if (stopped) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      emit(device.tick(now()));
      schedule();
    }, Math.max(5, Math.min(200, device.wakeAt - now())));
  };
  setImmediate(() => {
    emit(device.start(now()));
    schedule();
  });
  return {
    device,
    port: {
      write(bytes) {
        const arrived = toDevice.pass(bytes);
        setImmediate(() => {
          if (!stopped) emit(device.receive(arrived, now()));
        });
      },
      onData(l) {
        listener = l;
      },
    },
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
