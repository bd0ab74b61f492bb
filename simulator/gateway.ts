/**
 * One simulated bedside: a Node-platform gateway (firmware/platform/node/runtime.ts running the real
 * firmware core) with a simulated device on a simulated serial line, its flash and key-value store,
 * the pure-TS verifier, the shipped device profiles, and a strong random source. The one assembly that
 * `vigil start`, `vigil gateway`, the tests and the ward simulator use.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DeviceKind } from '../firmware/core/command/index.js';
import type { GatewayConfig, GatewayEffect, KeyValueStore } from '../firmware/core/gateway/index.js';
import type { Flash } from '../firmware/core/log/index.js';
import { ed25519Verify } from '../firmware/platform/node/ed25519.js';
import { FileFlash } from '../firmware/platform/node/file-flash.js';
import { startNodeGateway, type NodeGateway } from '../firmware/platform/node/runtime.js';
import { FileStore, MemoryStore } from '../firmware/platform/node/store.js';
import { NorFlash } from '../firmware/platform/node/nor-flash.js';
import { PROFILES } from '../firmware/profiles/index.js';
import { simulatedDeviceOnLine, type DeviceOnLine } from './device-line.js';
import type { LineFaults } from './line.js';

/** A 960 KB vitals partition, as on the ESP32. */
export const PARTITION_SECTORS = 240;

export interface SimulatedGatewayOptions {
  readonly site: string;
  readonly id: string;
  readonly kind: DeviceKind;
  readonly rootKey: Uint8Array;
  readonly brokerUrl: string;
  /** The broker login: the gateway id and its provisioned secret. */
  readonly username?: string;
  readonly password?: string;
  readonly serial?: string;
  /** The device's model (its profile, e.g. "bd-alaris-8015") and its own firmware version; generic ones without. */
  readonly model?: string;
  readonly deviceFirmware?: string;
  readonly seed?: number;
  readonly faults?: LineFaults;
  /** Keep flash and store in files here (they survive restarts); in memory without. */
  readonly dataDir?: string;
  readonly flash?: Flash;
  readonly store?: KeyValueStore;
  readonly config?: Partial<GatewayConfig>;
  readonly firmware?: string;
  readonly onEffect?: (e: GatewayEffect) => void;
  /** The device already at this bed (a gateway restarting after a power cut finds its device running). */
  readonly device?: DeviceOnLine;
  /** Compressed time: the gateway's and device's clocks run this many times faster (1: real time). */
  readonly speed?: number;
  /** Unix ms from the gateway's trusted clock (SNTP); the machine's clock by default. */
  readonly trustedClock?: () => number | undefined;
  /** The core threw (a power cut in the flash emulator): the gateway is dead. */
  readonly onFault?: (e: unknown) => void;
}

export interface SimulatedGateway {
  readonly id: string;
  readonly gw: NodeGateway;
  readonly device: DeviceOnLine;
  readonly flash: Flash;
  readonly store: KeyValueStore;
  stop(): Promise<void>;
}

export function startSimulatedGateway(o: SimulatedGatewayOptions): SimulatedGateway {
  if (o.dataDir !== undefined) mkdirSync(o.dataDir, { recursive: true });
  const flash = o.flash ?? (o.dataDir !== undefined ? new FileFlash(join(o.dataDir, 'vitals.flash'), PARTITION_SECTORS) : new NorFlash({ sectors: 24 }));
  const store = o.store ?? (o.dataDir !== undefined ? new FileStore(join(o.dataDir, 'store.json')) : new MemoryStore());
  const device = o.device ?? simulatedDeviceOnLine({ kind: o.kind, serial: o.serial ?? `${o.kind.toUpperCase()}-${o.id}`, ...(o.model === undefined ? {} : { model: o.model }), ...(o.deviceFirmware === undefined ? {} : { firmware: o.deviceFirmware }), seed: o.seed ?? 7, faults: o.faults ?? { loss: 0, corrupt: 0, duplicate: 0 }, speed: o.speed });
  const gw = startNodeGateway({
    config: { site: o.site, gateway: o.id, firmware: o.firmware ?? '0.2.0', rootKey: o.rootKey, profiles: PROFILES, ...o.config },
    ports: { flash, store, verify: ed25519Verify, random: (n) => new Uint8Array(randomBytes(n)) },
    brokerUrl: o.brokerUrl,
    ...(o.username === undefined ? {} : { username: o.username }),
    ...(o.password === undefined ? {} : { password: o.password }),
    serial: device.port,
    ...(o.onEffect === undefined ? {} : { onEffect: o.onEffect }),
    ...(o.speed === undefined ? {} : { speed: o.speed }),
    ...(o.trustedClock === undefined ? {} : { trustedClock: o.trustedClock }),
    ...(o.onFault === undefined ? {} : { onFault: o.onFault }),
  });
  return {
    id: o.id,
    gw,
    device,
    flash,
    store,
    async stop() {
      device.stop();
      await gw.stop();
    },
  };
}
