/** Linux: the device link through a serial device path (a pty from socat in the tests), `serialDevice` in the config. */
import config from 'mc/config';

export function uartOptions(): { device: string } {
  const c = config as unknown as { serialDevice?: string };
  return { device: c.serialDevice ?? '/tmp/vigil-device' };
}
