/**
 * Vitals log and codec figures for docs/vitals-log.md and the issue note:
 *  - appends per second in Node against writing the same bytes raw to the same emulator, same run;
 *  - bytes per sample against naive JSON and against plain cbor-x maps;
 *  - boot-scan cost for an empty, a half-full and a full 240-sector log (Node time; XS computrons);
 *  - the XS heap the log keeps, and how long a 960 KB partition lasts per device kind.
 */
import { Encoder } from 'cbor-x';
import { fileURLToPath } from 'node:url';
import { openLog } from '../firmware/core/log/index.js';
import { alignUp, RECORD_HEADER, SECTOR_HEADER } from '../firmware/core/log/format.js';
import { encodeHistory, encodeVitals } from '../firmware/core/protocol/index.js';
import { encodeBatch } from '../firmware/core/vitals/index.js';
import { NorFlash } from '../firmware/platform/node/nor-flash.js';
import { bootIdFor, faultCampaign } from '../test/portable/log-harness.js';
import { naiveJson, sampleBatch, sampleCount, type DeviceKindName } from '../test/portable/vitals-samples.js';
import { startXs } from '../test/xs/harness.js';
import { fmt, table } from './measure.js';

const PARTITION_SECTORS = 240; // 960 KB
/** Live batches are short (latency at the nursing station); during an outage the runtime records long ones. */
const BATCH_SECONDS: Record<DeviceKindName, number> = { monitor: 5, pump: 60, ventilator: 20 };
const OUTAGE_BATCH_SECONDS: Record<DeviceKindName, number> = { monitor: 60, pump: 600, ventilator: 120 };

function appendRate(): { log: number; raw: number } {
  const payload = encodeBatch(sampleBatch('monitor', 5));
  const N = 20_000;
  let best = { log: 0, raw: 0 };
  for (let round = 0; round < 3; round++) {
    const f1 = new NorFlash({ sectors: PARTITION_SECTORS });
    const log = openLog(f1, bootIdFor(1));
    let t = performance.now();
    for (let i = 0; i < N; i++) {
      log.append(payload);
      if (i % 8 === 7) log.ack(bootIdFor(1), i); // the host keeps up, as in normal running
    }
    const logRate = N / ((performance.now() - t) / 1000);
    // the same bytes, raw: aligned writes and a sync, erasing each sector before reuse
    const f2 = new NorFlash({ sectors: PARTITION_SECTORS });
    const bytes = new Uint8Array((payload.length + RECORD_HEADER + 3) & ~3).fill(0xa5);
    let offset = 0;
    t = performance.now();
    for (let i = 0; i < N; i++) {
      if (offset % 4096 === 0 || Math.floor(offset / 4096) !== Math.floor((offset + bytes.length - 1) / 4096)) {
        offset = Math.ceil(offset / 4096) * 4096;
        if (offset >= f2.byteLength) offset = 0;
        f2.erase(offset / 4096);
      }
      f2.write(offset, bytes);
      f2.sync();
      offset += bytes.length;
    }
    const rawRate = N / ((performance.now() - t) / 1000);
    best = { log: Math.max(best.log, logRate), raw: Math.max(best.raw, rawRate) };
  }
  return best;
}

/** Fills a 240-sector log with batches of `kind` until the first drop: how much a partition holds. */
function capacity(kind: DeviceKindName, seconds = BATCH_SECONDS[kind]): { batches: number; hours: number; bytes: number } {
  const payload = encodeBatch(sampleBatch(kind, seconds));
  const log = openLog(new NorFlash({ sectors: PARTITION_SECTORS }), bootIdFor(1));
  let n = 0;
  while (log.stats().dropped === 0) {
    log.append(payload);
    n++;
  }
  const batches = n - 1; // the last append forced the first drop
  return { batches, hours: (batches * seconds) / 3600, bytes: payload.length };
}

function scanTimes(): Array<[string, number, number]> {
  const payload = encodeBatch(sampleBatch('monitor', 5));
  return ([['empty', 0], ['half-full', 0.5], ['full', 0.98]] as const).map(([name, fill]) => {
    const flash = new NorFlash({ sectors: PARTITION_SECTORS });
    const log = openLog(flash, bootIdFor(1));
    const cap = capacity('monitor').batches;
    for (let i = 0; i < Math.floor(cap * fill); i++) log.append(payload);
    const runs = 200;
    const t = performance.now();
    let live = 0;
    for (let i = 0; i < runs; i++) live = openLog(flash, bootIdFor(2 + i)).scan.liveSectors;
    return [name, ((performance.now() - t) / runs) * 1000, live];
  });
}

async function xsFigures(): Promise<{ heapLog: number; scans: Array<[string, number]>; append: number }> {
  const xs = await startXs(fileURLToPath(new URL('./xs/log-heap.entry.ts', import.meta.url)));
  try {
    await xs.call('makeFlash', PARTITION_SECTORS);
    const before = await xs.call('gc');
    await xs.call('open', 1);
    await xs.call('append', 100);
    await xs.call('drain', 50);
    const after = await xs.call('gc');
    const scans: Array<[string, number]> = [];
    await xs.call('makeFlash', PARTITION_SECTORS);
    scans.push(['empty', (await xs.call('open', 2)).compute]);
    await xs.call('append', 2400);
    scans.push(['half-full', (await xs.call('open', 3)).compute]);
    await xs.call('append', 2400);
    scans.push(['full', (await xs.call('open', 4)).compute]);
    const app = await xs.call('append', 100);
    return { heapLog: after.heapCount - before.heapCount, scans, append: app.compute / 100 };
  } finally {
    await xs.close();
  }
}

/** What the gateway publishes for a record (docs/protocol.md): the envelope around the stored bytes; history adds the low-water mark. */
function onTheWire(batch: Uint8Array, history: boolean): number {
  const id = { bootId: new Uint8Array(16), seq: 123_456 };
  return history ? encodeHistory({ ...id, lowWater: 123_000, body: batch }).length : encodeVitals({ ...id, body: batch }).length;
}

/** Bytes of flash a record takes: header, payload, padding to 4, and its share of the 68-byte sector header. */
function inFlash(payload: number): number {
  return alignUp(RECORD_HEADER + payload, 4) * (4096 / (4096 - SECTOR_HEADER));
}

export async function benchLog(): Promise<string> {
  const rate = appendRate();
  const cx = new Encoder({ useRecords: false } as never);
  const sizes = (['monitor', 'pump', 'ventilator'] as const).flatMap((kind) =>
    [1, 5, 60].map((seconds) => {
      const b = sampleBatch(kind, seconds);
      const batch = encodeBatch(b);
      const n = sampleCount(b);
      const json = Buffer.byteLength(JSON.stringify({ bootId: '00'.repeat(16), seq: 123_456, samples: JSON.parse(naiveJson(b)) }));
      const cborx = cx.encode({ bootId: new Uint8Array(16), seq: 123_456, samples: JSON.parse(naiveJson(b)) }).length;
      const live = onTheWire(batch, false);
      return [
        `${kind}, ${seconds} s (${n} samples)`,
        (batch.length / n).toFixed(2),
        (live / n).toFixed(2),
        (onTheWire(batch, true) / n).toFixed(2),
        (inFlash(batch.length) / n).toFixed(2),
        (json / n).toFixed(1),
        (cborx / n).toFixed(1),
        `${((live / json) * 100).toFixed(1)} %`,
      ];
    }),
  );
  const caps = (['monitor', 'pump', 'ventilator'] as const).flatMap((kind) =>
    [BATCH_SECONDS[kind], OUTAGE_BATCH_SECONDS[kind]].map((seconds) => {
      const c = capacity(kind, seconds);
      return [kind, `${seconds} s`, String(c.bytes), fmt(c.batches), c.hours.toFixed(1), (c.hours / 24).toFixed(1)];
    }),
  );
  const scans = scanTimes();
  const xs = await xsFigures();
  // the random fault campaign of npm test (3,000 scenarios), ten times over with other seeds
  const t0 = performance.now();
  const campaigns = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((k) => faultCampaign({ seed: 0xbe7c0 + k, scenarios: 3000 }));
  const campaignS = (performance.now() - t0) / 1000;
  const failures = campaigns.flatMap((c) => c.failures);
  return [
    'Appends (monitor batch, host acking), Node, against the same bytes written raw to the same emulator (appends/s, best of 3)',
    table([
      ['writer', 'appends/s', 'vs raw'],
      ['raw aligned write + sync', fmt(rate.raw), '1.00'],
      ['vitals log append', fmt(rate.log), (rate.log / rate.raw).toFixed(2)],
    ]),
    '',
    'Bytes per sample, everything that goes with a record: the batch alone; on the wire with its identity (bootId, seq), live and as history (+ low-water mark); in flash (16-byte record header, padding, share of the sector header); against naive JSON and plain cbor-x maps carrying the same identity',
    table([['batch', 'batch', 'wire live', 'wire history', 'flash', 'naive JSON', 'cbor-x maps', 'wire / JSON'], ...sizes]),
    '',
    `Capacity of a 960 KB partition (${PARTITION_SECTORS} sectors), filled until the first drop`,
    table([['device', 'batch', 'bytes/batch', 'batches', 'hours', 'days'], ...caps]),
    '',
    'Boot scan of a 240-sector log',
    table([
      ['log', 'Node µs', 'live sectors', 'XS computrons'],
      ...scans.map(([name, us, live], i) => [name, us.toFixed(0), String(live), fmt(xs.scans[i]![1])]),
    ]),
    '',
    `XS: ${fmt(xs.append)} computrons per append of a monitor batch; heap slots the open log keeps (after 100 appends and a drain, after GC): ${fmt(xs.heapLog)}`,
    '',
    `Fault campaign, 30,000 random scenarios (10 seeds): ${fmt(campaigns.reduce((a, c) => a + c.cuts, 0))} cuts, ${fmt(campaigns.reduce((a, c) => a + c.flips, 0))} bit flips, ${fmt(campaigns.reduce((a, c) => a + c.hostileAcks, 0))} hostile acks; ` +
      `${failures.length} failures${failures.length > 0 ? `: ${failures.slice(0, 3).join('; ')}` : ''}; most records sent again after one reboot ${Math.max(...campaigns.map((c) => c.maxDuplicates))}; ${campaignS.toFixed(0)} s`,
  ].join('\n');
}
