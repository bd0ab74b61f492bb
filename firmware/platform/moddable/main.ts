/**
 * The gateway on the Moddable SDK (ESP32, and Moddable's Linux runtime for tests): thin adapters that
 * turn platform callbacks into core events and carry out the core's effects. No logic lives here
 * (DESIGN.md, "Parts"). What differs per platform is in `esp32/` and `lin/` (flash, alarm output,
 * serial pins or device, network and clock), chosen by the manifest.
 *
 * Time: the core gets Moddable's monotonic `Time.ticks`, never `Date.now()` (which jumps whenever
 * anything sets the system time); the SNTP reading is its only wall-clock input.
 * MQTT client: the SDK's `mqtt` module (modules/network/mqtt), MQTT 3.1.1 with a will, QoS 0 publishes
 * and subscriptions over TCP. QoS 0 costs nothing in durability: every record stays in flash until the
 * host's end-to-end `ack`, and a drain that sees no ack rewinds and sends again (docs/gateway.md). The
 * SDK's QoS 1 client (`mqtt/js`) lives in its examples, not its modules. The core owns reconnects.
 * Serial: ECMA-419 `embedded:io/serial`, 115200 8N1, no flow control; the device link copes with lost
 * bytes, and serial-writer.ts hands bytes to the port only as fast as it takes them.
 */
import Serial from 'embedded:io/serial';
import config from 'mc/config';
import MQTT from 'mqtt';
import Resource from 'Resource';
import Time from 'time';
import Timer from 'timer';
import verify from 'vigil/ed25519';
import random from 'vigil/random';
import { parseProfile, publicKeyProblem, type DeviceProfile } from 'vigil/core/command/index';
import { createGateway, type Gateway, type GatewayEffect, type GatewayEvent } from 'vigil/core/gateway/index';
import { fromHex } from 'vigil/core/hex';
import { openBundle } from 'vigil/core/provision/bundle';
import { BUNDLE_SOURCE, readBundleBytes } from 'vigil/platform/bundle';
import { openAlarm } from 'vigil/platform/alarm';
import { toArrayBuffer } from 'vigil/platform/bytes';
import { openFlash } from 'vigil/platform/flash';
import { startNetwork } from 'vigil/platform/network';
import { PreferenceStore } from 'vigil/platform/preference-store';
import { safeCloseSocket } from 'vigil/platform/safe-socket';
import { SerialWriter } from 'vigil/platform/serial-writer';
import { uartOptions } from 'vigil/platform/uart';

interface VigilConfig {
  readonly site: string;
  /** The site's root public key (hex): it certifies the site's provisioning key and signs the trust list. */
  readonly rootKey: string;
  /**
   * "1": a site image — it serves any gateway of the site, and everything else comes from the signed
   * provisioning bundle at boot (docs/provisioning.md). Otherwise the older per-gateway image, with
   * the rest below compiled in.
   */
  readonly siteImage?: string | number | boolean;
  readonly broker: string;
  readonly gateway: string;
  readonly firmware?: string;
  readonly mqttUser?: string;
  readonly mqttPassword?: string;
}

/** Who this gateway is and how it reaches its site: from the bundle, or compiled in. */
interface Identity {
  readonly gateway: string;
  readonly broker: string;
  readonly mqttUser: string | undefined;
  readonly mqttPassword: string | undefined;
  readonly rootKey: Uint8Array;
  readonly wifi: { readonly ssid: string; readonly password: string } | undefined;
}

const cfg = config as unknown as VigilConfig;
const alarm = openAlarm();

/** A root key the Node gateway would refuse (absent, not 32 bytes, small order, non-canonical) stops the gateway here. */
function rootKeyOrStop(): Uint8Array | undefined {
  const key = fromHex(cfg.rootKey);
  const problem = key === undefined || key.length !== 32 ? 'not 64 hex digits' : publicKeyProblem(key);
  if (problem === undefined) return key;
  trace(`vigil: refusing to start: the root key in the config is unusable (${problem}); rebuild with the site's root public key\n`);
  alarm.set(true);
  return undefined;
}

/**
 * Boot of a site image: the provisioning bundle, opened by the core's rules (its site key certified
 * by this image's root key at an epoch no older than the newest this gateway has seen, the bundle
 * signed by that key, for this site). The epoch is kept in NVS. Anything wrong stops the gateway with
 * the reason and the alarm output on: an unprovisioned or foreign gateway never joins a broker.
 */
function identityFromBundle(rootKey: Uint8Array): Identity | undefined {
  const store = new PreferenceStore();
  const seenBytes = store.get('siteEpoch');
  const seen = seenBytes === undefined || seenBytes.length !== 4 ? 0 : new DataView(seenBytes.buffer, seenBytes.byteOffset, 4).getUint32(0);
  const opened = openBundle(readBundleBytes(), cfg.site, rootKey, (s, m, k) => verify(s, m, k), seen);
  const why = !opened.ok ? `${BUNDLE_SOURCE}: ${opened.error}` : opened.value.bundle.broker.password === undefined ? 'the bundle logs in by client certificate; this build connects by password over TCP' : undefined;
  if (why !== undefined || !opened.ok) {
    trace(`vigil: refusing to start: ${why ?? ''}\n`);
    alarm.set(true);
    return undefined;
  }
  if (opened.value.siteEpoch > seen) {
    const epoch = new Uint8Array(4);
    new DataView(epoch.buffer).setUint32(0, opened.value.siteEpoch);
    store.set('siteEpoch', epoch);
  }
  const b = opened.value.bundle;
  return { gateway: b.gateway, broker: b.broker.url, mqttUser: b.broker.username, mqttPassword: b.broker.password, rootKey: b.rootKey, wifi: b.wifi };
}

function identity(): Identity | undefined {
  const rootKey = rootKeyOrStop();
  if (rootKey === undefined) return undefined;
  if (cfg.siteImage !== undefined && String(cfg.siteImage) === '1') return identityFromBundle(rootKey);
  return { gateway: cfg.gateway, broker: cfg.broker, mqttUser: cfg.mqttUser, mqttPassword: cfg.mqttPassword, rootKey, wifi: undefined };
}

function loadProfiles(): Map<string, DeviceProfile> {
  const profiles = new Map<string, DeviceProfile>();
  // the profiles ship as data (manifest.json "data"), validated at load
  for (const model of ['generic-pump-v1', 'generic-ventilator-v1', 'generic-monitor-v1', 'bd-alaris-8015', 'welch-allyn-connex-spot']) {
    const p = parseProfile(JSON.parse(String.fromArrayBuffer(new Resource(`${model}.json`).slice(0))));
    if (p.ok) profiles.set(p.value.model, p.value);
    else trace(`vigil: profile refused: ${p.error.path}: ${p.error.message}\n`);
  }
  return profiles;
}

function start(me: Identity): void {
  const core: Gateway = createGateway(
    { site: cfg.site, gateway: me.gateway, firmware: cfg.firmware ?? '0.2.0', rootKey: me.rootKey, profiles: loadProfiles() },
    { flash: openFlash(), store: new PreferenceStore(), verify: (s, m, k) => verify(s, m, k), random: (n) => new Uint8Array(random(n)) },
  );
  let client: MQTT | undefined;
  let wake: Timer | undefined;

  // pins on the ESP32, a device path on Linux: the typings know only the first
  let uart: Serial | undefined;
  try {
    uart = new Serial({
      ...uartOptions(),
      baud: 115200,
      format: 'buffer',
      onReadable(this: Serial) {
        const bytes = this.read() as ArrayBuffer | undefined;
        if (bytes !== undefined) feed({ type: 'device-bytes', bytes: new Uint8Array(bytes) });
      },
      onWritable(count: number) {
        writer.writable(count);
      },
    } as unknown as ConstructorParameters<typeof Serial>[0]);
  } catch (e) {
    // no device link: the gateway still runs, and the core reports the device silent
    trace(`vigil: the device link cannot be opened (${String(e)}): running without a device\n`);
  }
  const writer = new SerialWriter((bytes) => uart?.write(toArrayBuffer(bytes)));
  let refusedFrames = 0;

  function feed(event: GatewayEvent): void {
    run(core.handle(event, Time.ticks));
  }

  function connect(e: Extract<GatewayEffect, { type: 'mqtt-connect' }>): void {
    const url = /^mqtt:\/\/([^:/]+)(?::(\d+))?\/?$/.exec(me.broker);
    if (url === null) {
      trace(`vigil: broker must be mqtt://host[:port], got ${me.broker}\n`);
      return;
    }
    let c: MQTT;
    try {
      c = new MQTT({
        host: url[1]!,
        port: url[2] === undefined ? 1883 : Number(url[2]),
        id: e.clientId,
        ...(me.mqttUser === undefined ? {} : { user: me.mqttUser, password: me.mqttPassword ?? '' }),
        will: { topic: e.will.topic, message: toArrayBuffer(e.will.payload), retain: e.will.retain, quality: e.will.qos },
        timeout: 30_000,
        Socket: safeCloseSocket, // see safe-socket.ts: the SDK's Linux socket crashes when mqtt.js closes it from its own callback
      });
    } catch {
      feed({ type: 'mqtt-lost' }); // no socket: the core waits and tries again
      return;
    }
    client = c;
    c.onReady = () => {
      if (client === c) feed({ type: 'mqtt-connected' });
    };
    c.onMessage = (topic, body) => {
      if (client === c) feed({ type: 'message', topic, payload: new Uint8Array(body) });
    };
    c.onClose = () => {
      if (client !== c) return;
      client = undefined;
      feed({ type: 'mqtt-lost' });
    };
  }

  function publish(topic: string, payload: Uint8Array, retain: boolean): void {
    try {
      client?.publish(topic, toArrayBuffer(payload), { retain });
    } catch {
      // the connection closed under us: onClose tells the core; the record is still in flash
    }
  }

  function run(effects: GatewayEffect[]): void {
    for (const e of effects) {
      switch (e.type) {
        case 'mqtt-connect':
          connect(e);
          break;
        case 'mqtt-disconnect': {
          const c = client;
          client = undefined;
          c?.close();
          break;
        }
        case 'subscribe':
          for (const topic of e.topics) client?.subscribe(topic);
          break;
        case 'publish':
          publish(e.topic, e.payload, e.retain);
          break;
        case 'serial-write':
          // a stalled line: whole frames are refused rather than cut, and the device link's own
          // retries and silence detection take it from there
          if (!writer.send(e.bytes) && ++refusedFrames % 100 === 1) trace(`vigil: serial line stalled, ${refusedFrames} frames not sent\n`);
          break;
        case 'alarm-output':
          alarm.set(e.on);
          break;
        case 'wake':
          if (wake !== undefined) Timer.clear(wake);
          wake = Timer.set(() => {
            wake = undefined;
            feed({ type: 'tick' });
          }, Math.max(0, e.at - Time.ticks));
          break;
      }
    }
  }

  feed({ type: 'boot' });
  trace(`vigil: gateway ${me.gateway} of site ${cfg.site} started\n`);
  startNetwork(
    {
      up: () => feed({ type: 'network', up: true }),
      down: () => feed({ type: 'network', up: false }),
      clock: (unixMs) => feed({ type: 'clock', unixMs }),
    },
    me.wifi,
  );
}

const me = identity();
if (me !== undefined) start(me);
