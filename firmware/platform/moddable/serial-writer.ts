/**
 * Writes to an ECMA-419 serial port. `write` takes at most what the port says it can take (the ESP32's
 * transmit FIFO holds 128 bytes; more throws "output full"); the port then calls `onWritable(count)`
 * when it has room again. A device-link frame can be longer than the FIFO, so the bytes wait here and
 * go out in order as room comes: a frame is never cut short. If the line stalls, the queue holds at
 * most `limit` bytes and a frame that does not fit whole is refused (`send` returns false), never
 * queued in part. No Moddable imports: tested in Node.
 */
export class SerialWriter {
  private readonly queue: Uint8Array[] = [];
  private room = 0;
  private waiting = 0;

  constructor(
    private readonly write: (bytes: Uint8Array) => void,
    private readonly limit = 4096,
  ) {}

  /** Bytes still to be written. */
  get pending(): number {
    return this.waiting;
  }

  /** The port's `onWritable(count)`: it can take `count` bytes now. */
  writable(count: number): void {
    this.room = count;
    this.pump();
  }

  /** Queues a whole frame; false (and nothing queued) when it does not fit in what is left of `limit`. */
  send(bytes: Uint8Array): boolean {
    if (bytes.length === 0) return true;
    if (this.waiting + bytes.length > this.limit) return false;
    this.queue.push(bytes.slice());
    this.waiting += bytes.length;
    this.pump();
    return true;
  }

  private pump(): void {
    while (this.room > 0 && this.queue.length > 0) {
      const head = this.queue[0]!;
      const n = Math.min(this.room, head.length);
      try {
        this.write(head.subarray(0, n));
      } catch {
        // the port took nothing ("output full" on the ESP32, "would overflow" on Linux while the
        // previous write is still going out): the bytes stay queued until the next onWritable
        this.room = 0;
        return;
      }
      this.room -= n;
      this.waiting -= n;
      if (n === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(n);
    }
  }
}
