/** ESP32: the device link on UART2, pins from the config (`uartTx` 17, `uartRx` 16 by default). */
import config from 'mc/config';

export function uartOptions(): { port: number; receive: number; transmit: number } {
  const c = config as unknown as { uartTx?: number; uartRx?: number };
  return { port: 2, receive: c.uartRx ?? 16, transmit: c.uartTx ?? 17 };
}
