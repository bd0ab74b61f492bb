/**
 * A bed worker of `vigil sim`: a process running a share of the ward. Each bed is the one Node
 * gateway assembly (simulator/gateway.ts: the real firmware core) with its simulated device on a
 * simulated serial line, its own NOR flash emulator and key-value store, and its own stretch of
 * network: a TCP proxy to the broker (simulator/net-proxy.ts) that the conductor cuts, silences or
 * restores, and through which it injects what an attacker on the wire would send.
 *
 * It carries out the conductor's faults (messages.ts) and counts, per bed, what the device made, what
 * the gateway took and stored in flash across its boots, and what the gateway refused.
 */
import { performance } from 'node:perf_hooks';
import { fromHex, toHex } from '../../firmware/core/hex.js';
import type { GatewayEffect } from '../../firmware/core/gateway/index.js';
import { parseCommandResult, parseEvent, parseState, parseVitals } from '../../firmware/core/protocol/index.js';
import { NorFlash } from '../../firmware/platform/node/nor-flash.js';
import { MemoryStore } from '../../firmware/platform/node/store.js';
import { simulatedDeviceOnLine, type DeviceOnLine } from '../device-line.js';
import { startSimulatedGateway, type SimulatedGateway } from '../gateway.js';
import { publishPacket, publishPayload, startMqttProxy, type MqttProxy } from '../net-proxy.js';
import type { BedReport, BedSpec, FromWorker, ToWorker, WorkerStart } from './messages.js';

interface Bed {
  readonly spec: BedSpec;
  readonly device: DeviceOnLine;
  readonly flash: NorFlash;
  readonly store: MemoryStore;
  readonly proxy: MqttProxy;
  sim: SimulatedGateway | undefined;
  /** Samples taken and logged by earlier boots (the running boot's are in its core's stats). */
  takenBefore: number;
  loggedBefore: number;
  powerCuts: number;
  /** A power cut is armed: the gateway dies at its next flash operation, off for this long (real ms). */
  offMs: number | undefined;
  maxBacklog: number;
  recoveringSince: number | undefined;
  readonly drains: number[];
  readonly refusals: string[];
  readonly securityEvents: string[];
  nonce: string | undefined;
  published: Array<[string, number]>;
  clone: SimulatedGateway | undefined;
  readonly boots: string[];
}

let start: WorkerStart;
const beds = new Map<string, Bed>();
let poll: NodeJS.Timeout | undefined;

const bytes = (hex: string): Uint8Array => fromHex(hex) ?? new Uint8Array(0);
const unixNow = () => performance.timeOrigin + performance.now();

function watch(bed: Bed, e: GatewayEffect): void {
  if (e.type !== 'publish') return;
  const channel = e.topic.slice(e.topic.lastIndexOf(`/${bed.spec.id}/`) + bed.spec.id.length + 2);
  if (channel === 'vitals') {
    const v = parseVitals(e.payload);
    if (v.ok) bed.published.push([`${toHex(v.value.bootId)}/${v.value.seq}`, unixNow()]);
  } else if (channel === 'state') {
    const s = parseState(e.payload);
    if (s.ok && s.value.online) bed.nonce = toHex(s.value.nonce);
  } else if (channel === 'cmd/result') {
    const r = parseCommandResult(e.payload);
    if (r.ok) {
      bed.nonce = toHex(r.value.nonce);
      if (r.value.status === 'rejected') bed.refusals.push(r.value.reason ?? 'rejected');
    }
  } else if (channel === 'event') {
    const ev = parseEvent(e.payload);
    if (ev.ok && ev.value.class === 'security') bed.securityEvents.push(ev.value.code);
  }
}

function boot(bed: Bed): void {
  const s = bed.spec;
  bed.sim = startSimulatedGateway({
    site: start.site,
    id: s.id,
    kind: s.kind,
    rootKey: bytes(start.rootKey),
    brokerUrl: `mqtt://127.0.0.1:${bed.proxy.port}`,
    username: s.id,
    password: s.secret,
    flash: bed.flash,
    store: bed.store,
    device: bed.device,
    speed: start.speed,
    // the gateway's SNTP: scenario time, which runs `speed` times faster than the machine's clock
    trustedClock: () => start.epoch + (Date.now() - start.epoch) * start.speed,
    config: start.config,
    onEffect: (e) => watch(bed, e),
    onFault: () => powerOff(bed),
  });
  bed.boots.push(toHex(bed.sim.gw.core.bootId));
}

/** The flash emulator cut the power in the middle of an operation: the gateway is dead until it is back. */
function powerOff(bed: Bed): void {
  const core = bed.sim?.gw.core;
  if (core !== undefined) {
    bed.takenBefore += core.stats.samplesTaken;
    bed.loggedBefore += core.stats.samplesLogged;
  }
  bed.sim = undefined;
  bed.powerCuts++;
  bed.recoveringSince = undefined;
  const off = bed.offMs ?? 0;
  bed.offMs = undefined;
  setTimeout(() => {
    bed.flash.powerOn();
    boot(bed);
  }, off);
}

function track(): void {
  const now = performance.now();
  for (const bed of beds.values()) {
    const core = bed.sim?.gw.core;
    if (core === undefined) continue;
    bed.maxBacklog = Math.max(bed.maxBacklog, core.log.stats().used);
    if (core.mode === 'recovering' && bed.recoveringSince === undefined) bed.recoveringSince = now;
    if (core.mode !== 'recovering' && bed.recoveringSince !== undefined) {
      if (core.mode === 'online') bed.drains.push(Math.round(now - bed.recoveringSince));
      bed.recoveringSince = undefined;
    }
  }
}

/** Why the bed is not yet settled (its running boot's batch, flash, link and session), or undefined. */
function busy(bed: Bed): string | undefined {
  const core = bed.sim?.gw.core;
  if (core === undefined) return 'powered off';
  if (bed.offMs !== undefined) return 'a power cut armed, waiting for a flash operation';
  if (core.stats.samplesTaken !== core.stats.samplesLogged) return `${core.stats.samplesTaken - core.stats.samplesLogged} samples not yet in flash`;
  if (bed.device.device.link.pending > 0) return `${bed.device.device.link.pending} device messages on the serial line`;
  if (core.mode !== 'online') return `mode ${core.mode}`;
  if (core.log.stats().used > 0) return `${core.log.stats().used} bytes of flash not yet committed by the host`;
  return undefined;
}

function report(bed: Bed, latencies: boolean): BedReport {
  const core = bed.sim?.gw.core;
  const taken = bed.takenBefore + (core?.stats.samplesTaken ?? 0);
  const logged = bed.loggedBefore + (core?.stats.samplesLogged ?? 0);
  const d = bed.device.device;
  const published = latencies ? bed.published : undefined;
  if (latencies) bed.published = [];
  return {
    id: bed.spec.id,
    bed: bed.spec.bed,
    kind: bed.spec.kind,
    produced: d.counts.samples,
    taken,
    logged,
    powerCuts: bed.powerCuts,
    boots: bed.boots,
    linkDropped: d.link.stats.failures + d.link.stats.queueFull,
    maxBacklog: bed.maxBacklog,
    capacity: core?.log.stats().capacity ?? 0,
    drains: bed.drains,
    applied: d.counts.applied,
    deviceAlarms: d.counts.alarms,
    refusals: bed.refusals,
    securityEvents: bed.securityEvents,
    mode: core?.mode ?? 'off',
    nonce: bed.nonce,
    ...(published === undefined ? {} : { published }),
    busy: busy(bed),
  };
}

async function handle(m: ToWorker, send: (r: FromWorker) => void): Promise<void> {
  switch (m.type) {
    case 'start': {
      start = m;
      for (const s of m.beds) {
        const proxy = await startMqttProxy(m.broker, { capture: (t) => t.endsWith('/cmd'), keep: 4 });
        const device = simulatedDeviceOnLine({ kind: s.kind, serial: s.serial, seed: s.seed, faults: m.serial, speed: m.speed });
        const bed: Bed = {
          spec: s,
          device,
          flash: new NorFlash({ sectors: m.flashSectors, seed: s.seed }),
          store: new MemoryStore(),
          proxy,
          sim: undefined,
          takenBefore: 0,
          loggedBefore: 0,
          powerCuts: 0,
          offMs: undefined,
          maxBacklog: 0,
          recoveringSince: undefined,
          drains: [],
          refusals: [],
          securityEvents: [],
          nonce: undefined,
          published: [],
          clone: undefined,
          boots: [],
        };
        beds.set(s.id, bed);
        boot(bed);
      }
      poll = setInterval(track, 100);
      return send({ type: 'ready' });
    }
    case 'partition':
      for (const id of m.ids) {
        const p = beds.get(id)?.proxy;
        if (p === undefined) continue;
        if (m.down) p.cut({ silent: m.silent });
        else p.restore();
      }
      return;
    case 'serial-noise':
      for (const id of m.ids) beds.get(id)?.device.faults(m.line);
      return;
    case 'power-cut':
      for (const id of m.ids) {
        const bed = beds.get(id);
        if (bed?.sim === undefined || bed.offMs !== undefined) continue; // already off, or a cut already armed
        bed.offMs = m.offMs;
        bed.flash.cutAt(0, m.outcome); // the next program or erase: mid-write
      }
      return;
    case 'inject': {
      const p = beds.get(m.id)?.proxy;
      const packet = publishPacket(m.topic, bytes(m.payload));
      for (let i = 0; i < m.times; i++) p?.inject(packet);
      return send({ type: 'done', what: 'inject' });
    }
    case 'replay': {
      // a command captured on the wire to `from`, sent to `id` under its own command topic
      const captured = beds.get(m.from)?.proxy.captured.at(-1);
      const target = beds.get(m.id);
      if (captured === undefined || target === undefined) return send({ type: 'error', error: `no command captured on the way to ${m.from} to replay` });
      target.proxy.inject(publishPacket(`${captured.topic.slice(0, captured.topic.lastIndexOf(`/${m.from}/`))}/${m.id}/cmd`, publishPayload(captured.packet)));
      return send({ type: 'done', what: 'replay' });
    }
    case 'device': {
      const bed = beds.get(m.id);
      if (bed === undefined) return;
      if (m.action === 'swap') bed.device.act((d, now) => d.swap(`${d.kind.toUpperCase()}-SWAPPED-${bed.spec.bed}`, now));
      else bed.device.act((d, now) => (d.kind === 'pump' ? d.localChange('rate', 65, now) : d.kind === 'ventilator' ? d.localChange('fio2', 50, now) : d.localChange('spo2Low', 85, now)));
      return send({ type: 'done', what: 'device' });
    }
    case 'clone': {
      // the same credentials on a second box, with nothing plugged into it, straight to the broker
      const bed = beds.get(m.id);
      if (bed === undefined || bed.clone !== undefined) return;
      const device = simulatedDeviceOnLine({ kind: bed.spec.kind, serial: `${bed.spec.serial}-CLONE`, seed: bed.spec.seed + 1, faults: start.serial, speed: start.speed });
      device.device.producing = false;
      bed.clone = startSimulatedGateway({
        site: start.site,
        id: bed.spec.id,
        kind: bed.spec.kind,
        rootKey: bytes(start.rootKey),
        brokerUrl: `mqtt://${start.broker.host}:${start.broker.port}`,
        username: bed.spec.id,
        password: bed.spec.secret,
        device,
        speed: start.speed,
        config: start.config,
      });
      setTimeout(() => {
        void bed.clone?.stop();
        bed.clone = undefined;
      }, m.forMs);
      return send({ type: 'done', what: 'clone' });
    }
    case 'settle':
      // the end of the run: devices stop making samples; the gateways flush, drain and go quiet
      for (const bed of beds.values()) bed.device.device.producing = false;
      return;
    case 'report':
      return send({ type: 'report', beds: [...beds.values()].map((b) => report(b, m.latencies)) });
    case 'stop':
      if (poll !== undefined) clearInterval(poll);
      for (const bed of beds.values()) {
        bed.device.stop();
        await bed.sim?.stop();
        await bed.clone?.stop();
        await bed.proxy.close();
      }
      send({ type: 'done', what: 'stop' });
      process.exit(0);
  }
}

process.on('message', (m: ToWorker) => {
  const req = m.req;
  const reply = (r: FromWorker) => void process.send?.(req === undefined ? r : { ...r, re: req });
  handle(m, reply).catch((e: unknown) => reply({ type: 'error', error: (e as Error).stack ?? String(e) }));
});
process.on('disconnect', () => process.exit(0)); // the conductor is gone: so are its beds
