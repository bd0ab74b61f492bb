/**
 * The gateway core alone, driven by hand: connection states, backoff, Sparkplug birth/death, and the
 * behavioural monitoring (device traffic anomalies, implausible values, command floods).
 */
import { describe, expect, it } from 'vitest';
import { decode, encode, type CborValue } from '../../firmware/core/cbor/index.js';
import { parseProfile, signTrustList, type DeviceProfile } from '../../firmware/core/command/index.js';
import { createLink } from '../../firmware/core/device/link.js';
import { encodeMessage } from '../../firmware/core/device/messages.js';
import { backoffMs, createGateway, hostStateTopic, transition, type GatewayEffect } from '../../firmware/core/gateway/index.js';
import { ed25519Verify } from '../../firmware/crypto/ed25519.js';
import { NorFlash } from '../../firmware/platform/node/nor-flash.js';
import { MemoryStore } from '../../firmware/platform/node/store.js';
import monitorProfile from '../../firmware/profiles/generic-monitor-v1.json' with { type: 'json' };
import { keys } from '../portable/command-cases.js';

describe('connection state', () => {
  const c = (broker: boolean, host: boolean | undefined, backlog: boolean) => ({ type: 'changed' as const, conditions: { broker, host, backlog } });
  it.each([
    ['connecting', c(true, true, false), 'online'],
    ['connecting', c(true, true, true), 'recovering'],
    ['connecting', c(true, undefined, false), 'degraded'],
    ['connecting', c(false, undefined, false), 'connecting'],
    ['online', c(false, true, false), 'degraded'],
    ['online', c(true, false, false), 'degraded'],
    ['degraded', c(true, true, true), 'recovering'],
    ['recovering', c(true, true, false), 'online'],
    ['recovering', c(false, true, true), 'degraded'],
  ] as const)('%s + %j -> %s', (from, ev, to) => {
    expect(transition(from, ev)).toBe(to);
  });

  it('backs off exponentially, capped at 60 s, with jitter between half and all of the ceiling', () => {
    expect(backoffMs(0, 0)).toBe(500);
    expect(backoffMs(0, 0.999)).toBeLessThanOrEqual(1000);
    expect(backoffMs(3, 0)).toBe(4000);
    expect(backoffMs(30, 0.999)).toBeLessThanOrEqual(60_000);
    expect(backoffMs(30, 0)).toBe(30_000);
  });
});

function rig() {
  const profile = parseProfile(monitorProfile);
  if (!profile.ok) throw new Error('profile');
  let r = 1;
  const store = new MemoryStore();
  const gw = createGateway(
    { site: 'w', gateway: 'g', firmware: '0.1.0', rootKey: keys.root.publicKey, profiles: new Map<string, DeviceProfile>([['generic-monitor-v1', profile.value]]) },
    { flash: new NorFlash({ sectors: 8 }), store, verify: ed25519Verify, random: (n) => Uint8Array.from({ length: n }, () => (r = (r * 1103515245 + 12345) & 0x7fffffff) & 0xff) },
  );
  const device = createLink({ session: 9 });
  const out: GatewayEffect[] = [];
  let now = 0;
  const feed = (...effects: GatewayEffect[][]) => {
    for (const list of effects) out.push(...list);
  };
  const fromDevice = (payload: Uint8Array) => {
    for (const e of device.send(payload, now)) if (e.type === 'write') feed(gw.handle({ type: 'device-bytes', bytes: e.bytes }, now));
    // the gateway's acks go back to the device end, so its next frame can go
    for (const e of out.splice(0)) {
      if (e.type === 'serial-write') for (const f of device.receive(e.bytes, now)) if (f.type === 'write') feed(gw.handle({ type: 'device-bytes', bytes: f.bytes }, now));
      out.push(e);
    }
  };
  const events = () => out.filter((e): e is Extract<GatewayEffect, { type: 'publish' }> => e.type === 'publish' && e.topic.endsWith('/event')).map((e) => (decode(e.payload).ok ? ((decode(e.payload) as unknown as { value: Map<string, CborValue> }).value.get('code') as string) : '?'));
  return { gw, store, out, feed, fromDevice, events, tick: (ms: number) => ((now += ms), feed(gw.handle({ type: 'tick' }, now))), at: () => now };
}

describe('session', () => {
  it('increments and persists bdSeq on every connect, with a death will carrying it, and a birth after', () => {
    const { gw, store, out, feed } = rig();
    feed(gw.handle({ type: 'boot' }, 0), gw.handle({ type: 'network', up: true }, 0));
    const connect = out.find((e) => e.type === 'mqtt-connect');
    expect(connect).toBeDefined();
    if (connect?.type !== 'mqtt-connect') throw new Error();
    expect(decode(connect.will.payload)).toMatchObject({ ok: true });
    expect((decode(connect.will.payload) as unknown as { value: Map<string, CborValue> }).value).toEqual(new Map<string, CborValue>([['bdSeq', 1], ['online', false]]));
    expect(decode(store.get('bdSeq')!)).toEqual({ ok: true, value: 1 });
    feed(gw.handle({ type: 'mqtt-connected' }, 10));
    const birth = out.find((e) => e.type === 'publish' && e.topic === 'vigil/v1/w/g/state' && e.retain);
    expect(birth).toBeDefined();
    feed(gw.handle({ type: 'mqtt-lost' }, 20));
    expect(gw.state).toBe('degraded');
  });

  it('is degraded while the host is offline even when the broker answers', () => {
    const { gw, feed } = rig();
    feed(gw.handle({ type: 'boot' }, 0), gw.handle({ type: 'network', up: true }, 0), gw.handle({ type: 'mqtt-connected' }, 1));
    feed(gw.handle({ type: 'message', topic: hostStateTopic('w'), payload: encode(new Map<string, CborValue>([['online', false]])) }, 2));
    expect(gw.state).toBe('degraded');
    feed(gw.handle({ type: 'message', topic: hostStateTopic('w'), payload: encode(new Map<string, CborValue>([['online', true]])) }, 3));
    expect(gw.state).toBe('online');
  });
});

describe('behavioural monitoring', () => {
  const hello = encodeMessage({ k: 'hello', kind: 'monitor', model: 'generic-monitor-v1', serial: 'M-1' });
  const obs = (hr: number) => encodeMessage({ k: 'obs', values: new Map([['HR', hr]]) });

  it('flags malformed device traffic', () => {
    const r = rig();
    r.feed(r.gw.handle({ type: 'boot' }, 0), r.gw.handle({ type: 'network', up: true }, 0), r.gw.handle({ type: 'mqtt-connected' }, 0));
    r.fromDevice(Uint8Array.of(0xa1, 0x61, 0x6b, 0x63, 0x66, 0x6f, 0x6f)); // {"k": "foo"}
    expect(r.events()).toContain('device-traffic-anomaly');
  });

  it('flags a physiologically implausible jump, once a minute at most', () => {
    const r = rig();
    r.feed(r.gw.handle({ type: 'boot' }, 0), r.gw.handle({ type: 'network', up: true }, 0), r.gw.handle({ type: 'mqtt-connected' }, 0));
    r.fromDevice(hello);
    r.fromDevice(obs(80));
    r.fromDevice(obs(190)); // +110 /min in one second
    r.fromDevice(obs(80));
    expect(r.events().filter((e) => e === 'implausible-value')).toHaveLength(1);
  });

  it('refuses a trust list it cannot store, and one not signed by the root key, without throwing', () => {
    const r = rig();
    r.feed(r.gw.handle({ type: 'boot' }, 0), r.gw.handle({ type: 'network', up: true }, 0), r.gw.handle({ type: 'mqtt-connected' }, 0));
    r.feed(r.gw.handle({ type: 'message', topic: 'vigil/v1/w/trust', payload: new Uint8Array(5000) }, 1));
    r.feed(r.gw.handle({ type: 'message', topic: 'vigil/v1/w/trust', payload: Uint8Array.of(0xd2, 0x84) }, 2));
    expect(r.events().filter((e) => e === 'trust-rejected')).toHaveLength(2);
    expect(r.store.get('trust')).toBeUndefined();
  });

  it('refuses a different trust list at the same (epoch, issued), with an event, and keeps the one it holds (issue 10 item 2)', () => {
    const r = rig();
    r.feed(r.gw.handle({ type: 'boot' }, 0), r.gw.handle({ type: 'network', up: true }, 0), r.gw.handle({ type: 'mqtt-connected' }, 0));
    const content = (revoked: Uint8Array[]) => ({
      site: 'w',
      epoch: 2,
      issued: 1_790_000_000,
      signers: [{ kid: keys.nurse.kid, key: keys.nurse.publicKey, person: 'nurse.ada', roles: ['nurse'] }],
      revoked,
      grants: new Map([['nurse', ['monitor.*']]]),
      cosign: new Map(),
    });
    const revoking = signTrustList(content([keys.revoked.publicKey]), keys.root);
    const unrevoking = signTrustList(content([]), keys.root);
    r.feed(r.gw.handle({ type: 'message', topic: 'vigil/v1/w/trust', payload: revoking }, 1));
    expect(r.store.get('trust')).toEqual(revoking);
    r.feed(r.gw.handle({ type: 'message', topic: 'vigil/v1/w/trust', payload: unrevoking }, 2));
    expect(r.events().filter((e) => e === 'trust-rejected')).toHaveLength(1);
    const reason = r.out
      .filter((e) => e.type === 'publish' && e.topic.endsWith('/event'))
      .map((e) => (e.type === 'publish' ? [...((decode(e.payload) as unknown as { value: Map<string, Map<string, CborValue>> }).value.get('detail') ?? [])] : []));
    expect(JSON.stringify(reason)).toMatch(/"reason","version-conflict"/);
    expect(r.store.get('trust')).toEqual(revoking);
    // the very same list again is no change and no event
    r.feed(r.gw.handle({ type: 'message', topic: 'vigil/v1/w/trust', payload: revoking }, 3));
    expect(r.events().filter((e) => e === 'trust-rejected')).toHaveLength(1);
  });

  it('flags a command flood', () => {
    const r = rig();
    r.feed(r.gw.handle({ type: 'boot' }, 0), r.gw.handle({ type: 'network', up: true }, 0), r.gw.handle({ type: 'mqtt-connected' }, 0));
    for (let i = 0; i < 25; i++) r.feed(r.gw.handle({ type: 'message', topic: 'vigil/v1/w/g/cmd', payload: Uint8Array.of(i) }, i));
    expect(r.events().filter((e) => e === 'command-flood')).toHaveLength(1);
    expect(r.events().filter((e) => e === 'cmd-rejected').length).toBe(25); // nothing unverified goes anywhere
    expect(r.out.some((e) => e.type === 'serial-write' && e.bytes.length > 40)).toBe(false);
  });
});

describe('acks from the host', () => {
  it('an ack beyond what this boot appended is clamped by the log and reported as ack-refused', () => {
    const r = rig();
    r.feed(r.gw.handle({ type: 'boot' }, 0), r.gw.handle({ type: 'network', up: true }, 0), r.gw.handle({ type: 'mqtt-connected' }, 0));
    // the log clamps acks for its own boot: take the gateway's boot id from its birth
    const state = r.out.find((e) => e.type === 'publish' && e.topic.endsWith('/state'));
    if (state?.type !== 'publish') throw new Error('no birth');
    const own = (decode(state.payload) as unknown as { value: Map<string, CborValue> }).value.get('bootId') as Uint8Array;
    expect(own).toBeInstanceOf(Uint8Array);
    r.feed(r.gw.handle({ type: 'message', topic: 'vigil/v1/w/g/ack', payload: encode(new Map<string, CborValue>([['bootId', own], ['through', 1_000_000]])) }, 1));
    expect(r.events()).toContain('ack-refused');
  });
});
