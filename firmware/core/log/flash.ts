/**
 * The flash port: raw NOR flash as the ESP32 exposes it through Moddable's `Flash` (a data partition).
 *
 * NOR semantics, which every implementation keeps and the contract suite checks:
 *  - `erase(sector)` sets a whole sector (`sectorSize` bytes, 4096 on the ESP32) to 0xFF;
 *  - `write` can only clear bits (a 1 written over a 0 stays 0); offsets and lengths are multiples
 *    of `writeUnit`;
 *  - `sync()` returns when every earlier write is durable. On the ESP32 writes are synchronous and
 *    `sync` does nothing; the emulator can hold unsynced writes and reorder them at a power cut.
 * Errors (out of range, misaligned) throw a FlashError; they are programming errors, not data.
 */
export interface Flash {
  readonly byteLength: number;
  readonly sectorSize: number;
  readonly writeUnit: number;
  read(offset: number, length: number): Uint8Array;
  write(offset: number, data: Uint8Array): void;
  erase(sector: number): void;
  sync(): void;
}

export type FlashErrorType = 'out-of-range' | 'misaligned' | 'power-cut';

export class FlashError extends Error {
  readonly type: FlashErrorType;

  constructor(type: FlashErrorType, message: string) {
    super(message);
    this.name = 'FlashError';
    this.type = type;
  }
}
