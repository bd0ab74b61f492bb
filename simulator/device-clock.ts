/**
 * Drives a simulated device in real time (or `speed` times faster): its clock (ms since it was made),
 * its start, and a timer that ticks it whenever it wants to wake (5–200 ms apart). What it says goes to `send`; where it goes (a
 * lossy simulated line, a pty) is the caller's. Shared by device-line.ts and device-serial.ts.
 */
import type { SimulatedDevice } from './devices/device.js';

export interface DeviceClock {
  /** The device's time now, for `receive`. */
  now(): number;
  /** Powers the device on: its first words, then ticks as it asks for them. */
  start(): void;
  stop(): void;
  readonly stopped: boolean;
  /** Where the device's words go (the `send` given). */
  send(chunks: Uint8Array[]): void;
}

export function deviceClock(device: SimulatedDevice, send: (chunks: Uint8Array[]) => void, speed = 1): DeviceClock {
  const started = performance.now();
  const now = () => (performance.now() - started) * speed;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = () => {
    if (stopped) return;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      send(device.tick(now()));
      schedule();
    }, Math.max(5, Math.min(200, (device.wakeAt - now()) / speed)));
  };
  return {
    now,
    send,
    start() {
      send(device.start(now()));
      schedule();
    },
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
    get stopped() {
      return stopped;
    },
  };
}
