/**
 * The gateway core driven by hand in a test: a simulated device on the far end of the link, a clock
 * the test moves, and every effect collected. `run(until)` follows the gateway's own wake-ups, as the
 * runtime does, so timers behave as they would on a device.
 */
import type { CborMap } from '../../firmware/core/cbor/index.js';
import { parseProfile, type DeviceProfile } from '../../firmware/core/command/index.js';
import { createLink } from '../../firmware/core/device/link.js';
import { createGateway, type GatewayConfig, type GatewayEffect } from '../../firmware/core/gateway/index.js';
import { parseEvent } from '../../firmware/core/protocol/index.js';
import { ed25519Verify } from '../../firmware/platform/node/ed25519.js';
import { NorFlash } from '../../firmware/platform/node/nor-flash.js';
import { MemoryStore } from '../../firmware/platform/node/store.js';
import monitorProfile from '../../firmware/profiles/generic-monitor-v1.json' with { type: 'json' };
import pumpProfile from '../../firmware/profiles/generic-pump-v1.json' with { type: 'json' };
import { keys } from '../portable/command-cases.js';

export type Published = Extract<GatewayEffect, { type: 'publish' }>;

export function rig(config: Partial<GatewayConfig> = {}) {
  const profiles = new Map<string, DeviceProfile>();
  for (const json of [monitorProfile, pumpProfile]) {
    const p = parseProfile(json);
    if (!p.ok) throw new Error(`profile: ${p.error.message}`);
    profiles.set(p.value.model, p.value);
  }
  let r = 1;
  const store = new MemoryStore();
  const gw = createGateway(
    { site: 'w', gateway: 'g', firmware: '0.1.0', rootKey: keys.root.publicKey, profiles, ...config },
    { flash: new NorFlash({ sectors: 8 }), store, verify: ed25519Verify, random: (n) => Uint8Array.from({ length: n }, () => (r = (r * 1103515245 + 12345) & 0x7fffffff) & 0xff) },
  );
  const device = createLink({ session: 9 });
  const out: GatewayEffect[] = [];
  /** When each effect came out (monotonic ms), index for index with `out`. */
  const times: number[] = [];
  let now = 0;
  let wakeAt = Infinity;
  /** Collects effects; serial writes go to the device end, whose acks come back to the gateway. */
  const feed = (...effects: GatewayEffect[][]) => {
    const queue = effects.flat();
    while (queue.length > 0) {
      const e = queue.shift()!;
      out.push(e);
      times.push(now);
      if (e.type === 'wake') wakeAt = e.at;
      if (e.type === 'serial-write') for (const f of device.receive(e.bytes, now)) if (f.type === 'write') queue.push(...gw.handle({ type: 'device-bytes', bytes: f.bytes }, now));
    }
  };
  const fromDevice = (payload: Uint8Array) => {
    for (const e of device.send(payload, now)) if (e.type === 'write') feed(gw.handle({ type: 'device-bytes', bytes: e.bytes }, now));
  };
  /** Moves the clock to `until`, waking the gateway whenever it asked to be woken. */
  const run = (until: number) => {
    while (wakeAt <= until) {
      now = Math.max(now, wakeAt);
      wakeAt = Infinity;
      feed(gw.handle({ type: 'tick' }, now));
    }
    now = Math.max(now, until);
  };
  const published = (channel: string): Published[] => out.filter((e): e is Published => e.type === 'publish' && e.topic.endsWith(`/${channel}`));
  /** When the publishes on `channel` came out. */
  const publishedAt = (channel: string): number[] => out.flatMap((e, i) => (e.type === 'publish' && e.topic.endsWith(`/${channel}`) ? [times[i]!] : []));
  const events = () =>
    published('event').map((e) => {
      const d = parseEvent(e.payload);
      if (!d.ok) throw new Error(`the gateway published an event that is not one: ${d.error}`);
      return d.value.code;
    });
  const detailOf = (e: Published): CborMap | undefined => {
    const d = parseEvent(e.payload);
    return d.ok ? d.value.detail : undefined;
  };
  return { gw, store, out, feed, fromDevice, run, published, publishedAt, events, detailOf, tick: (ms: number) => ((now += ms), feed(gw.handle({ type: 'tick' }, now))), at: () => now, device };
}
