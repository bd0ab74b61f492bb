/**
 * Ingest on its own (real SQLite, no broker): strict parsing of every kind of bad payload, dedupe,
 * the contiguous ack frontier with drop ranges and low-water marks, acks only after a commit that
 * succeeded, and a fuzz run of random and mutated payloads.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encode, type CborValue } from '../../firmware/core/cbor/index.js';
import { Ingest, parseRecord, type AckOut } from '../../host/ingest.js';
import { encodeBatch } from '../../firmware/core/vitals/index.js';
import { sampleBatch } from '../portable/vitals-samples.js';
import { openDb } from '../../host/store/db.js';
import { dropRecord, record } from '../support/records.js';

function setup() {
  const db = openDb(':memory:');
  const acks: AckOut[] = [];
  const ingest = new Ingest(db, { ack: (a) => acks.push(...a) }, { flushMs: 1_000_000 });
  const last = (boot: Uint8Array) => acks.filter((a) => Buffer.from(a.bootId).equals(Buffer.from(boot))).at(-1)?.through;
  return { db, acks, ingest, last };
}

const boot = () => new Uint8Array(randomBytes(16));

describe('ingest', () => {
  it('acks through the highest contiguous seq, waits at a hole, and passes it once filled', () => {
    const { ingest, last } = setup();
    const b = boot();
    for (const s of [0, 1, 3, 4]) ingest.receive('gw', 'vitals', record({ bootId: b, seq: s }));
    ingest.flush();
    expect(last(b)).toBe(1);
    ingest.receive('gw', 'vitals', record({ bootId: b, seq: 2 }));
    ingest.flush();
    expect(last(b)).toBe(4);
  });

  it('stores a record once however often it comes, and acks the duplicates again', () => {
    const { ingest, db, acks, last } = setup();
    const b = boot();
    for (let i = 0; i < 3; i++) ingest.receive('gw', 'vitals', record({ bootId: b, seq: 0 }));
    ingest.receive('gw', 'history', record({ bootId: b, seq: 0, history: { lowWater: [b, 0] } }));
    ingest.flush();
    expect(ingest.stats).toMatchObject({ stored: 1, duplicates: 3 });
    expect((db.prepare('SELECT count(*) AS n FROM batches').get() as { n: number }).n).toBe(1);
    ingest.receive('gw', 'vitals', record({ bootId: b, seq: 0 }));
    ingest.flush();
    expect(acks.length).toBe(2);
    expect(last(b)).toBe(0);
  });

  it('passes seqs reported lost (drop ranges) and below the low-water mark, and stores the gaps', () => {
    const { ingest, db, last } = setup();
    const b = boot();
    // records 0..9 were lost to a full log; the drop report is seq 10; 11 follows
    ingest.receive('gw', 'history', dropRecord({ bootId: b, seq: 10, lowWater: [b, 0], dropped: 10, ranges: [[b, 0, 9]] }));
    ingest.receive('gw', 'history', record({ bootId: b, seq: 11, history: { lowWater: [b, 10] } }));
    ingest.flush();
    expect(last(b)).toBe(11);
    expect(db.prepare('SELECT first_seq, last_seq FROM gaps').all()).toEqual([{ first_seq: 0, last_seq: 9 }]);
    // a low-water mark alone also resolves what lies below it (the drop record itself was lost)
    const c = boot();
    ingest.receive('gw', 'history', record({ bootId: c, seq: 40, history: { lowWater: [c, 40] } }));
    ingest.flush();
    expect(last(c)).toBe(40);
  });

  it('acks nothing of a transaction that failed, and acks it once it is committed', () => {
    const { ingest, db, last } = setup();
    const b = boot();
    for (let s = 0; s < 5; s++) ingest.receive('gw', 'vitals', record({ bootId: b, seq: s }));
    ingest.flush();
    expect(last(b)).toBe(4);
    db.exec("CREATE TRIGGER full BEFORE INSERT ON batches WHEN NEW.seq = 6 BEGIN SELECT RAISE(ABORT, 'disk full'); END");
    ingest.receive('gw', 'vitals', record({ bootId: b, seq: 5 }));
    ingest.receive('gw', 'vitals', record({ bootId: b, seq: 6 }));
    ingest.flush();
    expect(ingest.stats.storeErrors).toBe(1);
    expect(last(b)).toBe(4); // 5 was in the failed transaction too: not acked
    expect((db.prepare('SELECT count(*) AS n FROM batches').get() as { n: number }).n).toBe(5);
    db.exec('DROP TRIGGER full');
    ingest.receive('gw', 'vitals', record({ bootId: b, seq: 5 }));
    ingest.receive('gw', 'vitals', record({ bootId: b, seq: 6 }));
    ingest.flush();
    expect(last(b)).toBe(6);
  });

  it('picks up its ack frontier from the database after a restart', () => {
    const db = openDb(':memory:');
    const acks: AckOut[] = [];
    const b = boot();
    const first = new Ingest(db, { ack: (a) => acks.push(...a) });
    for (const s of [0, 1, 2, 4]) first.receive('gw', 'vitals', record({ bootId: b, seq: s }));
    first.flush();
    const second = new Ingest(db, { ack: (a) => acks.push(...a) });
    second.receive('gw', 'vitals', record({ bootId: b, seq: 3 }));
    second.flush();
    expect(acks.at(-1)!.through).toBe(4);
  });

  it('refuses every kind of malformed record with a reason, never an exception', () => {
    const b = boot();
    const body = encodeBatch(sampleBatch('monitor', 5));
    // the envelope by hand, so fields can hold what encodeVitals would never write
    const raw = (entries: Array<[number, CborValue]>) => encode(new Map<number, CborValue>(entries));
    const cases: Array<[string, Uint8Array, 'vitals' | 'history', RegExp]> = [
      ['empty', new Uint8Array(0), 'vitals', /CBOR/],
      ['not CBOR', new TextEncoder().encode('{"json": true}'), 'vitals', /CBOR/],
      ['truncated', record({ bootId: b, seq: 1 }).subarray(0, 20), 'vitals', /CBOR/],
      ['trailing bytes', new Uint8Array([...record({ bootId: b, seq: 1 }), 0]), 'vitals', /CBOR/],
      ['an array', encode([1, 2]), 'vitals', /expected a map/],
      ['short bootId', record({ bootId: b.subarray(0, 8), seq: 1 }), 'vitals', /bootId: expected 16 bytes/],
      ['negative seq', raw([[1, b], [2, -1], [4, body]]), 'vitals', /seq/],
      ['no batch body', raw([[1, b], [2, 1]]), 'vitals', /body: missing/],
      ['a history envelope on vitals', record({ bootId: b, seq: 1, history: { lowWater: [b, 0] } }), 'vitals', /unexpected key 3/],
      ['a live envelope on history', record({ bootId: b, seq: 1 }), 'history', /lowWater: missing/],
      ['bad lowWater', raw([[1, b], [2, 1], [3, [b]], [4, body]]), 'history', /lowWater/],
      ['extra key', raw([[1, b], [2, 1], [4, body], [9, 1]]), 'vitals', /unexpected key 9/],
      ['a text-keyed record of revision 1', encode(new Map<string, CborValue>([['bootId', b], ['seq', 1], ['t0', 1]])), 'vitals', /unexpected key "/],
      ['a body that is not a batch', raw([[1, b], [2, 1], [4, Uint8Array.of(0xa0)]]), 'vitals', /body: batch.t0: missing/],
      ['both a body and a drop', raw([[1, b], [2, 1], [3, 0], [4, body], [5, Uint8Array.of(0xa0)]]), 'history', /exactly one of body and drop/],
      ['drop on live', dropRecord({ bootId: b, seq: 1, lowWater: [b, 0], dropped: 1, ranges: [[b, 0, 0]] }), 'vitals', /unexpected key/],
      ['inverted drop range', dropRecord({ bootId: b, seq: 1, lowWater: [b, 0], dropped: 1, ranges: [[b, 5, 2]] }), 'history', /first 5 is after last 2/],
      ['huge', new Uint8Array(20_000), 'vitals', /bytes, at most/],
      ['deep nesting', encode([[[[[[[[[[1]]]]]]]]]]), 'vitals', /CBOR/],
    ];
    const { ingest } = setup();
    for (const [name, bytes, channel, why] of cases) {
      const r = parseRecord(bytes, channel);
      expect({ name, ok: r.ok }).toEqual({ name, ok: false });
      if (!r.ok) expect({ name, error: r.error }).toEqual({ name, error: expect.stringMatching(why) });
      expect(ingest.receive('gw', channel, bytes)).toBeDefined();
    }
    expect(ingest.stats.refused).toBe(cases.length);
  });

  it('survives a fuzz run of random and mutated payloads: no exception, everything accepted is stored once', () => {
    const { ingest, db } = setup();
    const b = boot();
    const seeds = [record({ bootId: b, seq: 3 }), record({ bootId: b, seq: 4, history: { lowWater: [b, 2] } }), dropRecord({ bootId: b, seq: 5, lowWater: [b, 0], dropped: 2, ranges: [[b, 0, 1]] })];
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })).map(([s, flips]) => {
            const m = new Uint8Array(s);
            for (const [at, v] of flips) m[at % m.length] = v;
            return m;
          }),
        ),
        fc.constantFrom('vitals' as const, 'history' as const),
        (bytes, channel) => {
          if (ingest.receive('gw', channel, bytes) === undefined) accepted++;
          ingest.flush();
        },
      ),
      { numRuns: 3000, seed: 7 },
    );
    expect(ingest.stats.received).toBe(3000);
    expect(ingest.stats.refused + accepted).toBe(3000);
    expect(ingest.stats.refused).toBeGreaterThan(0);
    expect(accepted).toBeGreaterThan(0);
    const rows = (db.prepare('SELECT count(*) AS n FROM batches').get() as { n: number }).n;
    expect(rows).toBe(ingest.stats.stored);
  });
});
