/**
 * Linux: the host machine's network is there from the start, and its clock stands in for SNTP (the
 * machine keeps it by NTP). The core's own time stays the monotonic `Time.ticks`.
 * A bundle's Wi-Fi settings have nothing to do here.
 */
export function startNetwork(on: { up(): void; down(): void; clock(unixMs: number): void }, _wifi?: { readonly ssid: string; readonly password: string }): void {
  on.up();
  on.clock(Date.now());
}
