/**
 * The Moddable platform's plain parts, run in Node: the serial writer (ECMA-419 partial writes) and the
 * NOR-semantics file behind the Linux build's flash. The same files run on Moddable's Linux runtime in
 * test/services/moddable-lin.test.ts.
 */
import { mkdtempSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NorFile, type ByteFile } from '../../firmware/platform/moddable/nor-file.js';
import { SerialWriter } from '../../firmware/platform/moddable/serial-writer.js';
import { openLog } from '../../firmware/core/log/index.js';
import { flashContract } from '../portable/flash-contract.js';

/** A port like the ESP32's: a FIFO of `fifo` bytes; `write` of more than the room throws "output full". */
function esp32Port(fifo = 128) {
  const wire: number[] = [];
  let room = fifo;
  const writes: number[] = [];
  return {
    wire,
    writes,
    write(bytes: Uint8Array) {
      if (bytes.length > room) throw new Error('output full');
      room -= bytes.length;
      writes.push(bytes.length);
      wire.push(...bytes);
    },
    /** The UART sends `n` bytes from the FIFO; returns the room now. */
    drain(n = fifo): number {
      room = Math.min(fifo, room + n);
      return room;
    },
  };
}

describe('SerialWriter (ECMA-419 onWritable)', () => {
  it('a frame longer than the 128-byte FIFO goes out whole, in order, never more than the room per write', () => {
    const port = esp32Port();
    const writer = new SerialWriter((b) => port.write(b));
    writer.writable(128);
    const frame = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
    expect(writer.send(frame)).toBe(true);
    expect(port.wire).toHaveLength(128);
    for (let spins = 0; writer.pending > 0 && spins < 100; spins++) writer.writable(port.drain());
    expect(port.wire).toEqual([...frame]);
    expect(Math.max(...port.writes)).toBeLessThanOrEqual(128);
  });

  it('bytes sent before the first onWritable wait for it', () => {
    const port = esp32Port();
    const writer = new SerialWriter((b) => port.write(b));
    writer.send(Uint8Array.of(1, 2, 3));
    expect(port.wire).toEqual([]);
    writer.writable(128);
    expect(port.wire).toEqual([1, 2, 3]);
  });

  it('a port that throws keeps the bytes queued for the next onWritable (Linux "would overflow")', () => {
    let busy = true;
    const wire: number[] = [];
    const writer = new SerialWriter((b) => {
      if (busy) throw new Error('would overflow');
      wire.push(...b);
    });
    writer.writable(1024);
    writer.send(Uint8Array.of(9, 8, 7));
    expect(wire).toEqual([]);
    expect(writer.pending).toBe(3);
    busy = false;
    writer.writable(1024);
    expect(wire).toEqual([9, 8, 7]);
  });

  it('a stalled line refuses whole frames past the limit and never queues part of one', () => {
    const writer = new SerialWriter(() => {}, 100);
    expect(writer.send(new Uint8Array(60))).toBe(true);
    expect(writer.send(new Uint8Array(60))).toBe(false);
    expect(writer.pending).toBe(60);
    expect(writer.send(new Uint8Array(40))).toBe(true);
    expect(writer.pending).toBe(100);
  });

  it('property: any frames, any sequence of room grants, the wire carries exactly the accepted frames in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 400, size: 'max' }), { maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 128 }), { minLength: 1, maxLength: 50 }),
        (frames, grants) => {
          const port = esp32Port();
          const writer = new SerialWriter((b) => port.write(b));
          const accepted: number[] = [];
          let g = 0;
          for (const f of frames) {
            if (writer.send(f)) accepted.push(...f);
            writer.writable(port.drain(grants[g++ % grants.length]!));
          }
          for (let spins = 0; writer.pending > 0 && spins < 10_000; spins++) writer.writable(port.drain(grants[g++ % grants.length]!));
          expect(writer.pending).toBe(0);
          expect(port.wire).toEqual(accepted);
        },
      ),
    );
  });
});

/** A ByteFile over a real file, like lin/flash.ts over Moddable's File; with `size`, made new and erased. */
function diskFile(path: string, size?: number): ByteFile {
  const fd = openSync(path, size === undefined ? 'r+' : 'w+');
  if (size !== undefined) writeSync(fd, new Uint8Array(size).fill(0xff), 0, size, 0);
  return {
    read(offset, length) {
      const b = new Uint8Array(length);
      readSync(fd, b, 0, length, offset);
      return b;
    },
    write(offset, bytes) {
      writeSync(fd, bytes, 0, bytes.length, offset);
    },
    flush() {},
  };
}

describe('NorFile (the Linux build\'s flash)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-norfile-'));
  let n = 0;
  it.each(flashContract(() => new NorFile(diskFile(join(dir, `f${n++}`), 4 * 4096), 4)).map((r) => [r.name, r] as const))(
    'flash contract: %s',
    (_n, r) => {
      expect(r.failure).toBeNull();
    },
  );

  it('the vitals log keeps its records across a restart on it (a new NorFile over the same file)', () => {
    const path = join(dir, 'log');
    const boot = (b: number) => new Uint8Array(16).fill(b);
    const first = openLog(new NorFile(diskFile(path, 8 * 4096), 8), boot(1));
    for (let i = 0; i < 50; i++) expect(first.append(Uint8Array.of(i, i + 1, i + 2)).ok).toBe(true);
    expect(statSync(path).size).toBe(8 * 4096);
    const again = openLog(new NorFile(diskFile(path), 8), boot(2));
    const seqs: number[] = [];
    for (let r = again.next(); r; r = again.next()) if (r.kind === 'data') seqs.push(r.seq);
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
