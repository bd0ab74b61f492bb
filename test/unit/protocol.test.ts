/**
 * firmware/core/protocol: every message defined once. The generated part of docs/protocol.md (CDDL and
 * examples) must be what the schemas write, every example must parse back and encode to the same
 * bytes, and each message is strict: a missing field, a wrong type or an unknown key is refused with a
 * reason naming the field.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decode, encode, type CborKey, type CborValue } from '../../firmware/core/cbor/index.js';
import {
  encodeBirth,
  hostSubscriptions,
  gatewaySubscriptions,
  parseAck,
  parseCommandResult,
  parseEvent,
  parseHistory,
  parseHostState,
  parseState,
  parseTopic,
  parseVitals,
  topic,
  trustTopic,
  hostStateTopic,
} from '../../firmware/core/protocol/index.js';
import { EXAMPLES, expectedPage } from '../../scripts/protocol-docs.js';

describe('docs/protocol.md', () => {
  it('holds exactly the CDDL and examples the schemas write (npm run docs:protocol)', () => {
    const page = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
    expect(page === expectedPage(page), 'docs/protocol.md differs from the protocol module: run npm run docs:protocol').toBe(true);
  });

  it.each(EXAMPLES.map((e) => [e.name, e] as const))('the example %s parses back, and encodes to the same bytes', (_name, e) => {
    const r = e.parse(e.bytes);
    expect(r.ok, r.error).toBe(true);
    const d = decode(e.bytes, { maxDepth: 8 });
    expect(d.ok).toBe(true);
    if (d.ok) expect(encode(d.value)).toEqual(e.bytes);
  });
});

describe('strict messages', () => {
  const birth = EXAMPLES.find((e) => e.name === 'birth')!.bytes;
  const asMap = (bytes: Uint8Array) => {
    const d = decode(bytes, { maxDepth: 8 });
    if (!d.ok || !(d.value instanceof Map)) throw new Error('not a map');
    return new Map(d.value as Map<CborKey, CborValue>);
  };

  it.each(['online', 'bdSeq', 'bootId', 'firmware', 'device', 'nonce', 'mode', 'buffer', 't', 'clock'])('a birth without %s is refused, naming it', (key) => {
    const m = asMap(birth);
    m.delete(key);
    expect(parseState(encode(m))).toEqual({ ok: false, error: key === 'online' ? expect.stringMatching(/online/) : `birth.${key}: missing` });
  });

  it('a birth with an unknown key, a short nonce, a mode it cannot have, or the names of revision 1 is refused', () => {
    const cases: Array<[(m: Map<CborKey, CborValue>) => void, RegExp]> = [
      [(m) => m.set('evil', 1), /unexpected key "evil"/],
      [(m) => m.set('nonce', new Uint8Array(15)), /birth.nonce: expected 16 bytes, got 15 bytes/],
      [(m) => m.set('mode', 'booting'), /birth.mode: expected one of online, degraded, recovering/],
      [(m) => (m.delete('firmware'), m.set('fw', '0.1.0')), /unexpected key "fw"/],
      [(m) => m.set('buffer', new Map([['used', -1], ['capacity', 1], ['dropped', 0]])), /birth.buffer.used: expected an unsigned integer/],
    ];
    for (const [mutate, why] of cases) {
      const m = asMap(birth);
      mutate(m);
      const r = parseState(encode(m));
      expect(r.ok ? 'accepted' : r.error).toMatch(why);
    }
  });

  it('a death is exactly {online: false, bdSeq}', () => {
    expect(parseState(encode(new Map<string, CborValue>([['online', false], ['bdSeq', 3]])))).toEqual({ ok: true, value: { online: false, bdSeq: 3 } });
    expect(parseState(encode(new Map<string, CborValue>([['online', false], ['bdSeq', 3], ['t', 1]]))).ok).toBe(false);
  });

  it('refuses every message cut short, padded, or in another form, never throwing', () => {
    const parsers = [parseState, parseVitals, parseHistory, parseEvent, parseCommandResult, parseAck, parseHostState];
    for (const e of EXAMPLES) {
      for (const p of parsers) {
        expect(() => p(e.bytes.subarray(0, e.bytes.length - 1))).not.toThrow();
        expect(p(e.bytes.subarray(0, e.bytes.length - 1)).ok).toBe(false);
        expect(p(new Uint8Array([...e.bytes, 0])).ok).toBe(false);
      }
    }
    // each example is taken by its own parser only
    const accepted = EXAMPLES.filter((e) => e.name.startsWith('birth') || e.name.startsWith('vitals')).map((e) => parsers.filter((p) => p(e.bytes).ok).length);
    expect(accepted).toEqual([1, 1]);
  });

  it('encodes what it parses: a birth round-trips', () => {
    const r = parseState(birth);
    if (!r.ok || !r.value.online) throw new Error('example birth');
    expect(encodeBirth(r.value)).toEqual(birth);
  });
});

describe('topics', () => {
  it('parses what it builds, and nothing else', () => {
    expect(parseTopic(topic('ward-1', 'gw-1', 'cmd/result'))).toEqual({ kind: 'gateway', site: 'ward-1', gateway: 'gw-1', channel: 'cmd/result' });
    expect(parseTopic(hostStateTopic('ward-1'))).toEqual({ kind: 'host-state', site: 'ward-1' });
    expect(parseTopic(trustTopic('ward-1'))).toEqual({ kind: 'trust', site: 'ward-1' });
    for (const bad of ['vigil/v1/ward-1/gw-1/vitals/x', 'vigil/v1/ward-1/host/vitals', 'vigil/v1/Ward/gw-1/vitals', 'vigil/v1/ward-1/gw+/vitals', 'vigil/v2/ward-1/gw-1/vitals', 'vigil/v1/ward-1/gw-1/unknown', '$SYS/x']) {
      expect(parseTopic(bad), bad).toBeUndefined();
    }
  });

  it('the host subscribes to what gateways publish; a gateway to its own inbound channels, the host state and the trust list', () => {
    expect(hostSubscriptions('s')).toEqual(['vigil/v1/s/+/state', 'vigil/v1/s/+/vitals', 'vigil/v1/s/+/history', 'vigil/v1/s/+/event', 'vigil/v1/s/+/cmd/result']);
    expect(gatewaySubscriptions('s', 'g')).toEqual(['vigil/v1/s/g/cmd', 'vigil/v1/s/g/ack', 'vigil/v1/s/host/state', 'vigil/v1/s/trust']);
  });
});
