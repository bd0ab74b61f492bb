/**
 * The gateway on the ESP32 (Moddable SDK): thin adapters that turn platform callbacks into core events
 * and carry out the core's effects. No logic lives here (DESIGN.md, "Parts").
 *
 * MQTT client: `mqtt/js`, the MQTT.js-style wrapper over the ECMA-419 client, because the classic `mqtt`
 * module is QoS 0 only, always clean session and has no will. QoS 1 here is a latency matter: durability
 * comes from the host's end-to-end `ack`. Its own reconnect is off (reconnectPeriod 0): the core owns
 * the reconnect policy.
 * Serial: ECMA-419 `embedded:io/serial` on UART2, 115200 8N1, no flow control; the device link copes
 * with lost bytes. Alarm output: a GPIO driving an LED and buzzer.
 */
import { toArrayBuffer } from 'vigil/platform/bytes';
import Digital from 'embedded:io/digital';
import Serial from 'embedded:io/serial';
import config from 'mc/config';
import { Client } from 'mqtt/js';
import SNTP from 'sntp';
import Timer from 'timer';
import WiFi from 'wifi';
import verify from 'vigil/ed25519';
import random from 'vigil/random';
import { parseProfile, type DeviceProfile } from 'vigil/core/command/index';
import { createGateway, type GatewayEffect, type GatewayEvent } from 'vigil/core/gateway/index';
import { fromHex } from 'vigil/core/hex';
import { PartitionFlash } from 'vigil/platform/flash-adapter';
import { PreferenceStore } from 'vigil/platform/preference-store';
import Resource from 'Resource';

interface VigilConfig {
  readonly ssid: string;
  readonly password: string;
  readonly broker: string;
  readonly site: string;
  readonly gateway: string;
  readonly rootKey: string;
  readonly mqttUser?: string;
  readonly mqttPassword?: string;
  readonly sntp?: string;
  readonly uartTx?: number;
  readonly uartRx?: number;
  readonly alarmPin?: number;
}

const cfg = config as unknown as VigilConfig;
const profiles = new Map<string, DeviceProfile>();
// the profiles ship as resources (manifest.json "resources"): data, validated at load
for (const model of ['generic-pump-v1', 'generic-ventilator-v1', 'generic-monitor-v1']) {
  const p = parseProfile(JSON.parse(String.fromArrayBuffer(new Resource(`${model}.json`).slice(0))));
  if (p.ok) profiles.set(p.value.model, p.value);
  else trace(`profile refused: ${p.error.path}: ${p.error.message}\n`);
}

const core = createGateway(
  { site: cfg.site, gateway: cfg.gateway, firmware: '0.1.0', rootKey: fromHex(cfg.rootKey)!, profiles },
  { flash: new PartitionFlash('vitals'), store: new PreferenceStore(), verify: (s, m, k) => verify(s, m, k), random: (n) => new Uint8Array(random(n)) },
);

const alarm = new Digital({ pin: cfg.alarmPin ?? 2, mode: Digital.Output });
let client: Client | undefined;
let wake: Timer | undefined;

const uart = new Serial({
  port: 2,
  receive: cfg.uartRx ?? 16,
  transmit: cfg.uartTx ?? 17,
  baud: 115200,
  format: 'buffer',
  onReadable(this: Serial) {
    const bytes = this.read() as ArrayBuffer | undefined;
    if (bytes !== undefined) feed({ type: 'device-bytes', bytes: new Uint8Array(bytes) });
  },
});

function feed(event: GatewayEvent): void {
  run(core.handle(event, Date.now()));
}

function run(effects: GatewayEffect[]): void {
  for (const e of effects) {
    switch (e.type) {
      case 'mqtt-connect': {
        const c = new Client(cfg.broker, {
          clientId: e.clientId,
          clean: true,
          reconnectPeriod: 0,
          ...(cfg.mqttUser === undefined ? {} : { username: cfg.mqttUser, password: cfg.mqttPassword ?? '' }),
          will: { topic: e.will.topic, payload: copy(e.will.payload), qos: e.will.qos, retain: e.will.retain },
        });
        client = c;
        c.on('connect', () => feed({ type: 'mqtt-connected' }));
        c.on('message', (topic: string, payload: ArrayBuffer) => feed({ type: 'message', topic, payload: new Uint8Array(payload) }));
        const lost = () => {
          if (client !== c) return;
          client = undefined;
          feed({ type: 'mqtt-lost' });
        };
        c.on('close', lost);
        c.on('error', lost);
        break;
      }
      case 'mqtt-disconnect':
        client?.end(true);
        client = undefined;
        break;
      case 'subscribe':
        for (const topic of e.topics) client?.subscribe(topic, { qos: 1 });
        break;
      case 'publish':
        client?.publish(e.topic, copy(e.payload), { qos: e.qos, retain: e.retain });
        break;
      case 'serial-write':
        uart.write(copy(e.bytes));
        break;
      case 'alarm-output':
        alarm.write(e.on ? 1 : 0);
        break;
      case 'wake':
        if (wake !== undefined) Timer.clear(wake);
        wake = Timer.set(() => {
          wake = undefined;
          feed({ type: 'tick' });
        }, Math.max(0, e.at - Date.now()));
        break;
    }
  }
}

const copy = toArrayBuffer;

feed({ type: 'boot' });
new WiFi({ ssid: cfg.ssid, password: cfg.password }, (message) => {
  if (message === WiFi.gotIP) {
    feed({ type: 'network', up: true });
    new SNTP({ host: cfg.sntp ?? 'pool.ntp.org' }, (status, value) => {
      if (status === SNTP.time && value !== undefined) feed({ type: 'clock', unixMs: value * 1000 });
    });
  } else if (message === WiFi.disconnected || message === WiFi.lostIP) {
    feed({ type: 'network', up: false });
  }
});
