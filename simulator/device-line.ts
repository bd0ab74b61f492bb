/**
 * A simulated device on a simulated serial line, driven by Node timers: the SerialPort the runtime
 * writes to, with byte loss and corruption in both directions (simulator/line.ts).
 */
import type { DeviceKind } from '../firmware/core/command/profile.js';
import { createLine, type LineFaults } from './line.js';
import { deviceClock } from './device-clock.js';
import { createSimulatedDevice, type SimulatedDevice } from './devices/device.js';
import type { SerialPort } from '../firmware/platform/node/runtime.js';

export interface DeviceOnLine {
  readonly port: SerialPort;
  readonly device: SimulatedDevice;
  /** Something done at the device (a local change, a swap) at its time now; what it says goes on the line. */
  act(fn: (device: SimulatedDevice, now: number) => Uint8Array[]): void;
  /** The line's faults in both directions, changeable while it runs (serial noise). */
  faults(f: LineFaults): void;
  stop(): void;
}

export function simulatedDeviceOnLine(opts: { kind: DeviceKind; serial: string; model?: string; firmware?: string; seed: number; faults: LineFaults; speed?: number }): DeviceOnLine {
  // In compressed time the event loop's pauses last `speed` times longer in scenario time, while the
  // line itself (its round trip) is as fast as ever: the device's link keeps resending after 150 ms of
  // its time, but gives up and queues as it would over the same *real* time at 1x (20 resends, 16
  // messages: the link's defaults), so a busy machine costs no samples that a real line would keep.
  const speed = opts.speed ?? 1;
  const device = createSimulatedDevice({ kind: opts.kind, serial: opts.serial, ...(opts.model === undefined ? {} : { model: opts.model }), ...(opts.firmware === undefined ? {} : { firmware: opts.firmware }), seed: opts.seed, ...(speed > 1 ? { link: { maxRetries: Math.ceil(20 * speed), queueCapacity: Math.ceil(16 * speed) } } : {}) });
  const toDevice = createLine(opts.faults, opts.seed + 11);
  const toGateway = createLine(opts.faults, opts.seed + 12);
  let listener: ((bytes: Uint8Array) => void) | undefined;
  const clock = deviceClock(device, (chunks) => {
    for (const c of chunks) {
      const arrived = toGateway.pass(c);
      if (arrived.length > 0) setImmediate(() => !clock.stopped && listener?.(arrived));
    }
  }, opts.speed);
  setImmediate(() => clock.start());
  return {
    device,
    port: {
      write(bytes) {
        const arrived = toDevice.pass(bytes);
        setImmediate(() => {
          if (!clock.stopped) clock.send(device.receive(arrived, clock.now()));
        });
      },
      onData(l) {
        listener = l;
      },
    },
    act: (fn) => clock.send(fn(device, clock.now())),
    faults(f) {
      toDevice.faults = f;
      toGateway.faults = f;
    },
    stop: () => clock.stop(),
  };
}
