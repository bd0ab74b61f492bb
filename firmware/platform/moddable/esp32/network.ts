/**
 * ESP32: Wi-Fi from the provisioning bundle (else the image's config), and SNTP once it has an address. The SNTP reading is the core's only
 * wall-clock input; the core's time otherwise is the monotonic `Time.ticks`.
 */
import config from 'mc/config';
import SNTP from 'sntp';
import WiFi from 'wifi';

export function startNetwork(on: { up(): void; down(): void; clock(unixMs: number): void }, wifi?: { readonly ssid: string; readonly password: string }): void {
  const c = config as unknown as { ssid: string; password: string; sntp?: string };
  new WiFi(wifi ?? { ssid: c.ssid, password: c.password }, (message) => {
    if (message === WiFi.gotIP) {
      on.up();
      new SNTP({ host: c.sntp ?? 'pool.ntp.org' }, (status, value) => {
        if (status === SNTP.time && value !== undefined) on.clock(value * 1000);
      });
    } else if (message === WiFi.disconnected || message === WiFi.lostIP) {
      on.down();
    }
  });
}
