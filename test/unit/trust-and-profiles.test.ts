import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { acceptTrustList, parseProfile, signTrustList, type TrustListContent } from '../../firmware/core/command/index.js';
import { fromHex } from '../../firmware/core/hex.js';
import { ed25519Verify } from '../../firmware/platform/node/ed25519.js';
import { keys, trustList } from '../portable/command-cases.js';

const content = (over: Partial<TrustListContent> = {}): TrustListContent => ({
  site: 'ward-7',
  epoch: 3,
  issued: 1_790_000_000,
  signers: [{ kid: keys.nurse.kid, key: keys.nurse.publicKey, person: 'nurse.ada', roles: ['nurse'] }],
  revoked: [],
  grants: new Map([['nurse', ['pump.rate']]]),
  cosign: new Map(),
  ...over,
});

describe('trust list', () => {
  const current = acceptTrustList(signTrustList(content(), keys.root), keys.root.publicKey, undefined, ed25519Verify);

  it('is accepted when the root signed it', () => {
    expect(current.ok).toBe(true);
  });

  it.each([
    ['signed by another key', () => signTrustList(content({ epoch: 4 }), keys.stranger), 'bad-signature'],
    ['a lower epoch (rollback)', () => signTrustList(content({ epoch: 2 }), keys.root), 'epoch-rollback'],
    ['the same epoch, issued earlier (a revocation rolled back)', () => signTrustList(content({ issued: 1_789_999_999 }), keys.root), 'issued-rollback'],
    ['a small-order signer key', () => signTrustList(content({ epoch: 4, signers: [{ kid: Uint8Array.of(1), key: fromHex('0100000000000000000000000000000000000000000000000000000000000000')!, person: 'x', roles: ['nurse'] }] }), keys.root), 'bad-signer-key'],
    ['a non-canonical signer key', () => signTrustList(content({ epoch: 4, signers: [{ kid: Uint8Array.of(1), key: fromHex('eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f')!, person: 'x', roles: ['nurse'] }] }), keys.root), 'bad-signer-key'],
    ['two signers with one kid', () => signTrustList(content({ epoch: 4, signers: [
      { kid: Uint8Array.of(9), key: keys.nurse.publicKey, person: 'a', roles: ['nurse'] },
      { kid: Uint8Array.of(9), key: keys.physician.publicKey, person: 'b', roles: ['physician'] },
    ] }), keys.root), 'duplicate-kid'],
    ['not a COSE message', () => Uint8Array.of(1, 2, 3), 'malformed'],
  ] as const)('refuses %s', (_name, make, type) => {
    if (!current.ok) throw new Error('setup');
    const r = acceptTrustList(make(), keys.root.publicKey, current.value, ed25519Verify);
    expect(r.ok ? 'accepted' : r.error.type).toBe(type);
  });

  it('takes a newer epoch, and the same epoch issued later', () => {
    if (!current.ok) throw new Error('setup');
    expect(acceptTrustList(signTrustList(content({ epoch: 4 }), keys.root), keys.root.publicKey, current.value, ed25519Verify).ok).toBe(true);
    expect(acceptTrustList(signTrustList(content({ issued: 1_790_000_001 }), keys.root), keys.root.publicKey, current.value, ed25519Verify).ok).toBe(true);
  });

  it('the shared test list names six signers and one revocation', () => {
    const t = trustList();
    expect([t.signers.size, t.revoked.size, t.epoch]).toEqual([6, 1, 3]);
  });
});

describe('device profiles', () => {
  const dir = new URL('../../firmware/profiles/', import.meta.url);

  it.each(readdirSync(dir).filter((f) => f.endsWith('.json')))('%s is valid', (file) => {
    const r = parseProfile(JSON.parse(readFileSync(new URL(file, dir), 'utf8')));
    expect(r.ok ? r.value.model : r.error).toBe(file.replace(/\.json$/, ''));
  });

  const base = { model: 'm-1', kind: 'pump', settings: { rate: { type: 'number', unit: 'mL/h', hard: [0, 100], soft: [1, 50], maxStep: 10, maxChangesPerHour: 6 } } };
  it.each([
    ['an unknown kind', { ...base, kind: 'toaster' }, 'kind'],
    ['no settings', { ...base, settings: {} }, 'settings'],
    ['soft limits outside the hard ones', { ...base, settings: { rate: { ...base.settings.rate, soft: [0, 150] } } }, 'settings.rate.soft'],
    ['hard limits the wrong way round', { ...base, settings: { rate: { ...base.settings.rate, hard: [100, 0] } } }, 'settings.rate.hard'],
    ['a zero step', { ...base, settings: { rate: { ...base.settings.rate, maxStep: 0 } } }, 'settings.rate.maxStep'],
    ['no unit', { ...base, settings: { rate: { ...base.settings.rate, unit: '' } } }, 'settings.rate.unit'],
    ['an enum with repeated values', { ...base, settings: { mode: { type: 'enum', values: ['A', 'A'], maxChangesPerHour: 2 } } }, 'settings.mode.values'],
    ['a fractional rate of changes', { ...base, settings: { rate: { ...base.settings.rate, maxChangesPerHour: 1.5 } } }, 'settings.rate.maxChangesPerHour'],
  ])('refuses %s, naming the field', (_name, json, path) => {
    const r = parseProfile(json);
    expect(r.ok ? 'accepted' : r.error.path).toBe(path);
    if (!r.ok) expect(r.error.message).toMatch(/expected .*got/);
  });
});
