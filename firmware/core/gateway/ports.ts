/** What the gateway core needs from its platform, passed in (STYLE.md: ports, not imports). */
import type { DeviceProfile } from '../command/profile.js';
import type { Ed25519Verify } from '../command/ed25519-policy.js';
import type { Flash } from '../log/flash.js';

/** Small durable values (Preference/NVS on the ESP32): `set` returns when the value is durable. */
export interface KeyValueStore {
  get(key: string): Uint8Array | undefined;
  set(key: string, value: Uint8Array): void;
}

export interface GatewayPorts {
  readonly flash: Flash;
  readonly store: KeyValueStore;
  readonly verify: Ed25519Verify;
  /** Cryptographically strong random bytes (the ESP32's hardware RNG; node:crypto). */
  random(n: number): Uint8Array;
}

export interface GatewayConfig {
  readonly site: string;
  readonly gateway: string;
  readonly firmware: string;
  /** The root key provisioned at flashing: it signs the trust list. */
  readonly rootKey: Uint8Array;
  /** Device profiles by model, loaded with the firmware. */
  readonly profiles: ReadonlyMap<string, DeviceProfile>;
  /** Live batch length, ms (default 5 s); while the gateway cannot publish live, batches are 60 s. */
  readonly batchMs?: number;
  readonly outageBatchMs?: number;
  readonly heartbeatMs?: number;
  /** Backlog pacing: `drainBatch` history records every `drainEveryMs` (defaults 8 per 50 ms). */
  readonly drainEveryMs?: number;
  readonly drainBatch?: number;
}
