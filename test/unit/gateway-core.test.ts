/**
 * The gateway core alone, driven by hand: connection states, backoff, Sparkplug birth/death, and the
 * behavioural monitoring (device traffic anomalies, implausible values, command floods).
 */
import { describe, expect, it } from 'vitest';
import { decode } from '../../firmware/core/cbor/index.js';
import { signTrustList } from '../../firmware/core/command/index.js';
import { encodeMessage } from '../../firmware/core/device/messages.js';
import { backoffMs, BOOTING, step, type Session, type SessionEvent } from '../../firmware/core/gateway/index.js';
import { encodeAck, encodeHostState, hostStateTopic, parseEvent, parseState, topic, trustTopic } from '../../firmware/core/protocol/index.js';
import { keys } from '../portable/command-cases.js';
import { rig } from '../support/gateway-rig.js';

describe('connection session (mode.ts)', () => {
  const run = (events: SessionEvent[], now = 0) => {
    let session: Session = BOOTING;
    const actions: string[] = [];
    const modes: string[] = [];
    for (const e of events) {
      const r = step(session, e, now, 0);
      session = r.session;
      if (r.action !== undefined) actions.push(r.action);
      modes.push(session.mode);
    }
    return { session, actions, modes };
  };
  it('boots, connects when the network comes up, and is degraded until the host is heard', () => {
    const r = run([{ type: 'started' }, { type: 'network', up: true }, { type: 'connected' }]);
    expect(r.actions).toEqual(['connect']);
    expect(r.modes).toEqual(['connecting', 'connecting', 'degraded']);
  });
  it.each([
    [false, false, 'online'],
    [false, true, 'recovering'],
    [true, false, 'degraded'],
  ] as const)('host offline %s, backlog %s: %s', (hostOffline, backlog, mode) => {
    const r = run([{ type: 'started' }, { type: 'network', up: true }, { type: 'backlog', has: backlog }, { type: 'connected' }, { type: 'host', online: !hostOffline }]);
    expect(r.session.mode).toBe(mode);
  });
  it('recovering becomes online when the backlog is acked; a lost broker is degraded and waits to retry', () => {
    const r = run([{ type: 'started' }, { type: 'network', up: true }, { type: 'backlog', has: true }, { type: 'connected' }, { type: 'host', online: true }, { type: 'backlog', has: false }, { type: 'lost' }], 1000);
    expect(r.modes.slice(4)).toEqual(['recovering', 'online', 'degraded']);
    expect(r.session.retryAt).toBeGreaterThanOrEqual(1500);
    const retry = step(r.session, { type: 'retry' }, r.session.retryAt!, 0);
    expect(retry.action).toBe('connect');
  });
  it('the network going down drops the connection', () => {
    const r = run([{ type: 'started' }, { type: 'network', up: true }, { type: 'connected' }, { type: 'network', up: false }]);
    expect(r.actions).toEqual(['connect', 'disconnect']);
    expect(r.session.mode).toBe('degraded');
  });

  it('backs off exponentially, capped at 60 s, with jitter between half and all of the ceiling', () => {
    expect(backoffMs(0, 0)).toBe(500);
    expect(backoffMs(0, 0.999)).toBeLessThanOrEqual(1000);
    expect(backoffMs(3, 0)).toBe(4000);
    expect(backoffMs(30, 0.999)).toBeLessThanOrEqual(60_000);
    expect(backoffMs(30, 0)).toBe(30_000);
  });
});

describe('session', () => {
  it('increments and persists bdSeq on every connect, with a death will carrying it, and a birth after', () => {
    const { gw, store, out, feed } = rig();
    feed(gw.handle({ type: 'boot' }, 0), gw.handle({ type: 'network', up: true }, 0));
    const connect = out.find((e) => e.type === 'mqtt-connect');
    expect(connect).toBeDefined();
    if (connect?.type !== 'mqtt-connect') throw new Error();
    expect(parseState(connect.will.payload)).toEqual({ ok: true, value: { online: false, bdSeq: 1 } });
    expect(decode(store.get('bdSeq')!)).toEqual({ ok: true, value: 1 });
    feed(gw.handle({ type: 'mqtt-connected' }, 10));
    const birth = out.find((e) => e.type === 'publish' && e.topic === topic('w', 'g', 'state') && e.retain);
    if (birth?.type !== 'publish') throw new Error('no birth');
    expect(parseState(birth.payload)).toMatchObject({ ok: true, value: { online: true, bdSeq: 1, firmware: '0.1.0', mode: 'degraded' } });
    feed(gw.handle({ type: 'mqtt-lost' }, 20));
    expect(gw.mode).toBe('degraded');
  });

  it('is degraded while the host is offline even when the broker answers', () => {
    const { gw, feed } = rig();
    feed(gw.handle({ type: 'boot' }, 0), gw.handle({ type: 'network', up: true }, 0), gw.handle({ type: 'mqtt-connected' }, 1));
    feed(gw.handle({ type: 'message', topic: hostStateTopic('w'), payload: encodeHostState({ online: false, hostId: 'h', t: 1 }) }, 2));
    expect(gw.mode).toBe('degraded');
    feed(gw.handle({ type: 'message', topic: hostStateTopic('w'), payload: encodeHostState({ online: true, hostId: 'h', t: 2 }) }, 3));
    expect(gw.mode).toBe('online');
    // a host state that is not one (a forged or broken retained message) counts as the host offline
    feed(gw.handle({ type: 'message', topic: hostStateTopic('w'), payload: Uint8Array.of(0xa1, 0x66) }, 4));
    expect(gw.mode).toBe('degraded');
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
    r.feed(r.gw.handle({ type: 'message', topic: trustTopic('w'), payload: new Uint8Array(5000) }, 1));
    r.feed(r.gw.handle({ type: 'message', topic: trustTopic('w'), payload: Uint8Array.of(0xd2, 0x84) }, 2));
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
    r.feed(r.gw.handle({ type: 'message', topic: trustTopic('w'), payload: revoking }, 1));
    expect(r.store.get('trust')).toEqual(revoking);
    r.feed(r.gw.handle({ type: 'message', topic: trustTopic('w'), payload: unrevoking }, 2));
    expect(r.events().filter((e) => e === 'trust-rejected')).toHaveLength(1);
    const reason = r.out
      .filter((e) => e.type === 'publish' && e.topic.endsWith('/event'))
      .map((e) => (e.type === 'publish' ? parseEvent(e.payload) : undefined))
      .map((e) => (e?.ok ? e.value.detail.get('reason') : undefined));
    expect(reason).toContain('version-conflict');
    expect(r.store.get('trust')).toEqual(revoking);
    // the very same list again is no change and no event
    r.feed(r.gw.handle({ type: 'message', topic: trustTopic('w'), payload: revoking }, 3));
    expect(r.events().filter((e) => e === 'trust-rejected')).toHaveLength(1);
  });

  it('flags a command flood', () => {
    const r = rig();
    r.feed(r.gw.handle({ type: 'boot' }, 0), r.gw.handle({ type: 'network', up: true }, 0), r.gw.handle({ type: 'mqtt-connected' }, 0));
    for (let i = 0; i < 25; i++) r.feed(r.gw.handle({ type: 'message', topic: topic('w', 'g', 'cmd'), payload: Uint8Array.of(i) }, i));
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
    const birth = parseState(state.payload);
    if (!birth.ok || !birth.value.online) throw new Error('not a birth');
    r.feed(r.gw.handle({ type: 'message', topic: topic('w', 'g', 'ack'), payload: encodeAck({ bootId: birth.value.bootId, through: 1_000_000 }) }, 1));
    expect(r.events()).toContain('ack-refused');
    // and an ack that is not one
    r.feed(r.gw.handle({ type: 'message', topic: topic('w', 'g', 'ack'), payload: Uint8Array.of(0xa0) }, 2));
    expect(r.events().filter((e) => e === 'ack-refused')).toHaveLength(2);
  });
});
