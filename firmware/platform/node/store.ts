/**
 * The key-value store port on Node: a JSON file of hex values, written atomically (temporary file,
 * fsync, rename), standing in for the ESP32's Preference (NVS). `MemoryStore` for tests.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import type { KeyValueStore } from '../../core/gateway/index.js';
import { fromHex, toHex } from '../../core/hex.js';

export class MemoryStore implements KeyValueStore {
  readonly values = new Map<string, Uint8Array>();
  get(key: string): Uint8Array | undefined {
    return this.values.get(key)?.slice();
  }
  set(key: string, value: Uint8Array): void {
    this.values.set(key, value.slice());
  }
}

export class FileStore implements KeyValueStore {
  private readonly values = new Map<string, string>();

  constructor(private readonly path: string) {
    if (existsSync(path)) {
      const json = JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>;
      for (const [k, v] of Object.entries(json)) this.values.set(k, v);
    }
  }

  get(key: string): Uint8Array | undefined {
    const v = this.values.get(key);
    return v === undefined ? undefined : fromHex(v);
  }

  set(key: string, value: Uint8Array): void {
    // NVS keys are at most 15 characters and values at most 4000 bytes: keep the same limits here
    if (key.length > 15) throw new RangeError(`store keys are at most 15 characters, got "${key}"`);
    if (value.length > 4000) throw new RangeError(`store values are at most 4000 bytes, got ${value.length}`);
    this.values.set(key, toHex(value));
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify(Object.fromEntries(this.values)));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
  }
}
