/**
 * The signer's tools end to end, as a technician would use them: keys, a trust list, commands signed
 * for a gateway's current nonce, and `vigil verify` running the gateway's own check with a state file.
 * Runs the real command code in-process (fast); test/unit/cli.test.ts covers the spawned binary.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/main.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
const p = (name: string) => join(dir, name);
const NOW = 1_790_000_000;

async function vigil(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    const code = await main(args);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

const pub: Record<string, string> = {};
let nonce = '';

async function sign(name: string, opts: { key?: string; counter?: number; nonce?: string; gateway?: string; set?: string[]; expires?: number; cosign?: string }) {
  const args = ['sign', '--key', p(`${opts.key ?? 'nurse'}.pem`), '--gateway', opts.gateway ?? 'gw-1', '--device', 'PUMP-1', '--counter', String(opts.counter ?? 1), '--nonce', opts.nonce ?? nonce, '--expires', String(opts.expires ?? NOW + 600), '--issued', String(Math.min(NOW - 5, (opts.expires ?? NOW + 600) - 300)), '--profile', 'generic-pump-v1', '--trust', p('trust.cbor'), '--out', p(name)];
  for (const s of opts.set ?? ['rate=60']) args.push('--set', s);
  if (opts.cosign) args.push('--cosign', p(`${opts.cosign}.pem`));
  const r = await vigil(...args);
  expect(r.code, r.err).toBe(0);
  return p(name);
}

async function verify(file: string, ...extra: string[]) {
  const r = await vigil('verify', '--trust', p('trust.cbor'), '--root', pub['root']!, '--gateway', 'gw-1', '--device', 'PUMP-1', '--profile', 'generic-pump-v1', '--state', p('gw.json'), '--current', 'rate=50', '--now', String(NOW), ...extra, file);
  return { code: r.code, verdict: r.code === 2 ? null : (JSON.parse(r.out) as { verdict: string; reason?: string; forward?: unknown }), err: r.err };
}

beforeAll(async () => {
  for (const [name, role] of [['root', 'root'], ['nurse', 'nurse'], ['physician', 'physician'], ['pharmacist', 'pharmacist'], ['retired', 'nurse']] as const) {
    const r = await vigil('keys', 'new', '--role', role, '--out', p(`${name}.pem`));
    expect(r.code, r.err).toBe(0);
    pub[name] = r.out.trim();
  }
  const t = await vigil('trust', 'build', '--root', p('root.pem'), '--epoch', '4', '--issued', String(NOW - 3600), '--out', p('trust.cbor'),
    '--signer', `${pub['nurse']}:nurse:nurse.ada`, '--signer', `${pub['physician']}:physician:dr.bell`, '--signer', `${p('pharmacist.pem')}:pharmacist:ph.cho`,
    '--signer', `${pub['retired']}:nurse:nurse.old`, '--revoke', pub['retired']!);
  expect(t.code, t.err).toBe(0);
  const s = await vigil('state', '--state', p('gw.json'));
  nonce = (JSON.parse(s.out) as { nonce: string }).nonce;
});

afterEach(() => vi.restoreAllMocks());

describe('vigil keys, trust, sign, state and verify', () => {
  it('writes PKCS#8 PEM keys and prints 32-byte public keys', () => {
    expect(readFileSync(p('nurse.pem'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(pub['nurse']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('prints the state as JSON and keeps it across calls', async () => {
    const again = await vigil('state', '--state', p('gw.json'));
    expect(JSON.parse(again.out)).toEqual({ lastCounter: 0, nonce });
    expect(nonce).toMatch(/^[0-9a-f]{32}$/);
  });

  it('accepts a command once, then calls the same command a replay', async () => {
    const file = await sign('ok.cbor', {});
    const first = await verify(file);
    expect(first).toMatchObject({ code: 0, verdict: { verdict: 'accepted', forward: { rate: 60 } } });
    const second = await verify(file);
    expect(second).toMatchObject({ code: 1, verdict: { verdict: 'rejected', reason: 'replay' } });
    // the state file moved on: counter 1 and a new nonce
    const state = JSON.parse(readFileSync(p('gw.json'), 'utf8')) as { lastCounter: number; nonce: string };
    expect(state.lastCounter).toBe(1);
    expect(state.nonce).not.toBe(nonce);
    nonce = state.nonce;
  });

  const current = () => nonce;
  it.each([
    ['changed target (signed for another gateway)', () => sign('target.cbor', { counter: 10, gateway: 'gw-2', nonce: current() }), 'wrong-gateway'],
    ['expired', () => sign('expired.cbor', { counter: 10, expires: NOW - 60, nonce: current() }), 'expired'],
    ['wrong nonce', () => sign('nonce.cbor', { counter: 10, nonce: '00'.repeat(16) }), 'stale-nonce'],
    ['revoked key', () => sign('revoked.cbor', { key: 'retired', counter: 10, nonce: current() }), 'revoked-key'],
    ['wrong role (a nurse gives a bolus)', () => sign('role.cbor', { counter: 10, set: ['bolus=2'], nonce: current() }), 'role-not-allowed'],
    ['hard limit', () => sign('hard.cbor', { key: 'physician', cosign: 'pharmacist', counter: 10, set: ['rate=1500'], nonce: current() }), 'hard-limit'],
    ['soft limit without a second signature', () => sign('soft.cbor', { key: 'physician', counter: 10, set: ['rate=510'], nonce: current() }), 'soft-limit-needs-cosign'],
    ['changed value (payload edited after signing)', async () => {
      const f = await sign('value.cbor', { counter: 10, set: ['rate=60'], nonce: current() });
      const b = readFileSync(f);
      const i = b.indexOf(Buffer.from([0x65, 0x76, 0x61, 0x6c, 0x75, 0x65, 0x18, 60])); // "value": 60
      expect(i).toBeGreaterThan(0);
      b[i + 7] = 61;
      writeFileSync(f, b);
      return f;
    }, 'bad-signature'],
    ['a tampered byte in the signature', async () => {
      const f = await sign('sig.cbor', { counter: 10, nonce: current() });
      const b = readFileSync(f);
      b[b.length - 1]! ^= 0x40;
      writeFileSync(f, b);
      return f;
    }, 'bad-signature'],
    ['a tampered byte in the structure (the COSE tag)', async () => {
      const f = await sign('tag.cbor', { counter: 10, nonce: current() });
      const b = readFileSync(f);
      b[0]! ^= 0x01;
      writeFileSync(f, b);
      return f;
    }, 'malformed'],
  ] as const)('rejects: %s', async (_name, make, reason) => {
    const r = await verify(await make());
    expect(r).toMatchObject({ code: 1, verdict: { verdict: 'rejected', reason } });
    const state = JSON.parse(readFileSync(p('gw.json'), 'utf8')) as { lastCounter: number };
    expect(state.lastCounter).toBe(1); // a rejection persists nothing
  });

  it('accepts a soft-limit change co-signed by a second person', async () => {
    const r = await verify(await sign('cosigned.cbor', { key: 'physician', cosign: 'pharmacist', counter: 11, set: ['rate=510'], nonce: current() }), '--current', 'rate=480');
    expect(r).toMatchObject({ code: 0, verdict: { verdict: 'accepted' } });
  });

  it('answers usage errors with exit 2 and a message naming the option', async () => {
    const r = await vigil('sign', '--key', p('nurse.pem'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--nonce is required/);
    const bad = await vigil('verify', '--trust', p('trust.cbor'), '--root', pub['nurse']!, '--gateway', 'gw-1', '--device', 'PUMP-1', '--profile', 'generic-pump-v1', '--state', p('gw.json'), p('ok.cbor'));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/trust list is refused \(bad-signature\)/);
    const overwrite = await vigil('keys', 'new', '--role', 'nurse', '--out', p('nurse.pem'));
    expect(overwrite).toMatchObject({ code: 2 });
    expect(overwrite.err).toMatch(/never overwritten/);
  });

  const build = (out: string, ...extra: string[]) =>
    vigil('trust', 'build', '--root', p('root.pem'), '--out', p(out), '--signer', `${pub['nurse']}:nurse:nurse.ada`, '--signer', `${pub['physician']}:physician:dr.bell`, ...extra);
  const versionOf = async (file: string) => {
    const { acceptTrustList } = await import('../../firmware/core/command/index.js');
    const { createNodeEd25519Verify } = await import('../../host/crypto/ed25519.js');
    const r = acceptTrustList(new Uint8Array(readFileSync(p(file))), Buffer.from(pub['root']!, 'hex'), undefined, createNodeEd25519Verify());
    if (!r.ok) throw new Error(r.error.detail);
    return r.value;
  };

  it('trust build refuses a different list at an (epoch, issued) this root key already signed', async () => {
    const r = await build('conflict.cbor', '--epoch', '4', '--issued', String(NOW - 3600));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/different trust list with epoch 4 and issue time 1789996400 was already signed/);
  });

  it('trust build refuses a list older than one this root key signed (a rollback)', async () => {
    const r = await build('old.cbor', '--epoch', '3');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/rollback/);
  });

  it('two builds at one epoch in the same second get different issue times, and the second replaces the first', async () => {
    const a = await build('a.cbor', '--epoch', '5');
    const b = await build('b.cbor', '--epoch', '5', '--revoke', pub['retired']!);
    expect([a.code, b.code], a.err + b.err).toEqual([0, 0]);
    const [first, second] = [await versionOf('a.cbor'), await versionOf('b.cbor')];
    expect(second.issued).toBeGreaterThan(first.issued);
    const { acceptTrustList } = await import('../../firmware/core/command/index.js');
    const { ed25519Verify } = await import('../../firmware/platform/node/ed25519.js');
    expect(acceptTrustList(second.bytes, Buffer.from(pub['root']!, 'hex'), first, ed25519Verify).ok).toBe(true);
    expect(acceptTrustList(first.bytes, Buffer.from(pub['root']!, 'hex'), second, ed25519Verify)).toMatchObject({ ok: false, error: { type: 'issued-rollback' } });
  });

  it('trust build takes --previous and an existing --out as lists gateways may hold', async () => {
    const other = await vigil('keys', 'new', '--role', 'root', '--out', p('root2.pem'));
    expect(other.code).toBe(0);
    // a list signed by another root file (no shared ledger) still must not collide with --previous
    const r = await vigil('trust', 'build', '--root', p('root2.pem'), '--out', p('c.cbor'), '--signer', `${pub['nurse']}:nurse`, '--epoch', '5', '--issued', '1', '--previous', p('b.cbor'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/rollback/);
    const ok = await vigil('trust', 'build', '--root', p('root2.pem'), '--out', p('b.cbor'), '--signer', `${pub['nurse']}:nurse`, '--epoch', '5');
    expect(ok.code, ok.err).toBe(0);
    const [prev, next] = [await versionOf('a.cbor'), await versionOf('b.cbor').catch(() => undefined)];
    expect(next).toBeUndefined(); // b.cbor is now signed by root2, not root
    expect(prev.epoch).toBe(5);
  });

  it('co-signing is its own grant: two nurses cannot co-sign a soft-limit override, a --cosign grant lets them', async () => {
    const k = await vigil('keys', 'new', '--role', 'nurse', '--out', p('nurse2.pem'));
    expect(k.code).toBe(0);
    const pub2 = k.out.trim();
    const trustWith = async (out: string, ...extra: string[]) => {
      const r = await vigil('trust', 'build', '--root', p('root.pem'), '--out', p(out), '--epoch', '6', '--signer', `${pub['nurse']}:nurse:nurse.ada`, '--signer', `${pub2}:nurse:nurse.bo`, ...extra);
      expect(r.code, r.err).toBe(0);
    };
    await trustWith('nurses.cbor');
    await trustWith('nurses-cosign.cbor', '--cosign', 'nurse=pump.rate');
    const verdict = async (trust: string) => {
      const state = p(`${trust}.state.json`);
      const s = await vigil('state', '--state', state);
      const n = (JSON.parse(s.out) as { nonce: string }).nonce;
      const signed = await vigil('sign', '--key', p('nurse.pem'), '--cosign', p('nurse2.pem'), '--gateway', 'gw-1', '--device', 'PUMP-1', '--counter', '1', '--nonce', n, '--expires', String(NOW + 600), '--issued', String(NOW - 5), '--profile', 'generic-pump-v1', '--trust', p(trust), '--set', 'rate=510', '--out', p(`${trust}.cmd`));
      expect(signed.code, signed.err).toBe(0);
      const r = await vigil('verify', '--trust', p(trust), '--root', pub['root']!, '--gateway', 'gw-1', '--device', 'PUMP-1', '--profile', 'generic-pump-v1', '--state', state, '--current', 'rate=480', '--now', String(NOW), p(`${trust}.cmd`));
      return JSON.parse(r.out) as { verdict: string; reason?: string };
    };
    expect(await verdict('nurses.cbor')).toMatchObject({ verdict: 'rejected', reason: 'cosign-not-allowed' });
    expect(await verdict('nurses-cosign.cbor')).toMatchObject({ verdict: 'accepted' });
  });

  it('vigil sign writes -0 as 0', async () => {
    const s = await vigil('state', '--state', p('zero.json'));
    const n = (JSON.parse(s.out) as { nonce: string }).nonce;
    const signed = await vigil('sign', '--key', p('physician.pem'), '--gateway', 'gw-1', '--device', 'PUMP-1', '--counter', '1', '--nonce', n, '--expires', String(NOW + 600), '--issued', String(NOW - 5), '--trust', p('trust.cbor'), '--set', 'rate=-0:mL/h', '--out', p('zero.cbor'));
    expect(signed.code, signed.err).toBe(0);
    const bytes = readFileSync(p('zero.cbor'));
    expect(bytes.includes(Buffer.from([0x65, 0x76, 0x61, 0x6c, 0x75, 0x65, 0x00]))).toBe(true); // "value": 0, an integer
  });
});
