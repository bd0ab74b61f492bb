import { Decoder } from 'cbor-x';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CborError, CborTag, decode, diagnose, encode, type CborValue } from '../../firmware/core/cbor/index.js';
import { fromHex, toHex } from '../../firmware/core/hex.js';
import { cborValue, runCborProperties, sameValue } from '../portable/cbor-properties.js';
import { cborVectors, runCborVector } from '../portable/cbor-vectors.js';

describe('CBOR vectors (RFC 8949 Appendix A and the failure list)', () => {
  it.each(cborVectors.map((v, i) => [v.name, i, v] as const))('%s', (_name, i, v) => {
    const outcome = runCborVector(i);
    if (v.expect.error !== undefined) {
      expect(outcome).toMatchObject({ error: v.expect.error });
    } else {
      // accepted: the input is canonical, so it re-encodes to itself
      expect(outcome).toMatchObject({ reencoded: v.hex });
      if (v.expect.diagnostic !== undefined) expect(outcome).toMatchObject({ diagnostic: v.expect.diagnostic });
    }
  });

  it('reaches every error type of the decoder', () => {
    const seen = new Set(cborVectors.map((_, i) => runCborVector(i)).flatMap((o) => ('error' in o ? [o.error] : [])));
    expect([...seen].sort()).toEqual(
      [
        'duplicate-key', 'indefinite-length', 'invalid-utf8', 'malformed', 'non-canonical-float', 'non-shortest',
        'too-deep', 'too-long', 'trailing-bytes', 'truncated', 'unsorted-keys', 'unsupported-key',
        'unsupported-simple', 'unsupported-tag',
      ].sort(),
    );
  });
});

describe('CBOR properties (the same ones run in XS)', () => {
  it.each(runCborProperties(0x5eed, 2000).map((r) => [r.name, r] as const))('%s', (_name, r) => {
    expect(r, `counterexample ${r.counterexample}: ${r.error}`).toMatchObject({ failed: false, numRuns: 2000 });
  });
});

describe('deterministic encoding (RFC 8949 §4.2.1)', () => {
  it('sorts map keys bytewise by their encoding: 10, 100, -1, "z", "aa"', () => {
    const bytes = encode(new Map<string | number, CborValue>([['aa', 5], ['z', 4], [-1, 3], [100, 2], [10, 1]]));
    expect(toHex(bytes)).toBe('a50a011864022003617a0462616105');
  });

  it('encodes plain objects like maps with text keys', () => {
    expect(toHex(encode({ b: 1, a: [2, 3] }))).toBe('a26161820203616201');
    expect(encode({ b: 1, a: 2 })).toEqual(encode(new Map([['a', 2], ['b', 1]])));
  });

  it('writes safe integers as integers and other numbers as the shortest exact float', () => {
    expect(toHex(encode(1735689600000))).toBe('1b000001941f297c00'); // epoch ms stays an integer
    expect(toHex(encode(1.5))).toBe('f93e00');
    expect(toHex(encode(-0))).toBe('f98000');
    expect(toHex(encode(NaN))).toBe('f97e00');
    expect(toHex(encode(1.1))).toBe('fb3ff199999999999a');
    expect(toHex(encode(Math.fround(1.1)))).toBe('fa3f8ccccd');
    expect(toHex(encode(2 ** 53))).toBe('fa5a000000');
    expect(toHex(encode(2n ** 53n))).toBe('1b0020000000000000');
    expect(toHex(encode(-(2n ** 64n)))).toBe('3bffffffffffffffff');
  });

  it('refuses values outside the profile with a typed error', () => {
    const bad: unknown[] = [2n ** 64n, -(2n ** 64n) - 1n, '\ud800', () => 1, Symbol('x'), new Date(0), new Map([[1.5, 1]]), new Map<unknown, number>([[[], 1]])];
    for (const v of bad) {
      expect(() => encode(v as CborValue), String(typeof v)).toThrow(CborError);
      try {
        encode(v as CborValue);
      } catch (e) {
        expect((e as CborError).type).toBe('unencodable');
      }
    }
    const cycle: CborValue[] = [];
    cycle.push(cycle);
    expect(() => encode(cycle)).toThrow(/nesting deeper/);
  });

  it('refuses a map whose keys collide once encoded (1 and 1n)', () => {
    expect(() => encode(new Map<number | bigint, number>([[1, 1], [1n, 2]]))).toThrow(/duplicate map key/);
  });
});

describe('strict decoding', () => {
  it('returns errors with the offset of the offending item', () => {
    const r = decode(fromHex('83010218')!);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ type: 'truncated', offset: 3, name: 'CborError' });
  });

  it('does not allocate for a declared length it cannot have', () => {
    // 4 GiB byte string declared in 5 bytes: refused before any allocation
    const r = decode(fromHex('5affffffff')!);
    expect(r.ok ? null : r.error.type).toBe('truncated');
  });

  it('copies byte strings out of the input, so later writes to the input do not change them', () => {
    const input = fromHex('43010203')!;
    const r = decode(input);
    input[1] = 9;
    expect(r.ok && toHex(r.value as Uint8Array)).toBe('010203');
  });

  it('prints diagnostic notation for tags, nested maps and floats', () => {
    const v = new CborTag(18, [new Map<number | string, CborValue>([[1, -8], ['x', 1.0e300]]), new Uint8Array([1, 255]), null]);
    expect(diagnose(v)).toBe(`18([{1: -8, "x": 1.0e+300}, h'01ff', null])`);
  });
});

describe('differential check against cbor-x, a mature general decoder', () => {
  const cborx = new Decoder({ mapsAsObjects: false, useRecords: false, int64AsNumber: false } as never);

  function fromCborx(v: unknown): CborValue {
    if (v instanceof Uint8Array) return Uint8Array.from(v);
    if (Array.isArray(v)) return v.map(fromCborx);
    if (v instanceof Map) return new Map([...v.entries()].map(([k, x]) => [fromCborx(k), fromCborx(x)] as [never, CborValue]));
    if (v !== null && typeof v === 'object' && 'tag' in v && 'value' in v) {
      const t = v as { tag: number; value: unknown };
      return new CborTag(t.tag, fromCborx(t.value));
    }
    // cbor-x reads every 8-byte integer as a bigint; Vigil's profile keeps safe integers as numbers
    if (typeof v === 'bigint' && v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
    return v as CborValue;
  }

  it('cbor-x reads back every value Vigil encodes', () => {
    fc.assert(
      fc.property(cborValue, (v) => sameValue(fromCborx(cborx.decode(encode(v))), v)),
      { seed: 7, numRuns: 1000 },
    );
  });
});
