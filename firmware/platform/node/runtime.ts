/**
 * The gateway on Node: carries out the core's effects with mqtt.js, Node timers and a serial line,
 * and turns their callbacks into core events. It holds no logic of its own: reconnect policy, batching
 * and every decision live in firmware/core/gateway.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { createGateway, type Gateway, type GatewayConfig, type GatewayEffect, type GatewayEvent, type GatewayPorts } from '../../core/gateway/index.js';

export interface SerialPort {
  write(bytes: Uint8Array): void;
  onData(listener: (bytes: Uint8Array) => void): void;
}

export interface NodeGatewayOptions {
  readonly config: GatewayConfig;
  readonly ports: GatewayPorts;
  readonly brokerUrl: string;
  readonly username?: string;
  readonly password?: string;
  readonly serial: SerialPort;
  /** Unix ms from a trusted clock (SNTP); the host machine's clock by default. */
  readonly trustedClock?: () => number | undefined;
  readonly onEffect?: (e: GatewayEffect) => void;
  /**
   * How fast the gateway's clock runs against the machine's (the simulator's compressed time: 60 makes
   * an hour pass in a minute). 1 by default.
   */
  readonly speed?: number;
  /**
   * The core threw (the simulator's power cut: the flash emulator throws at the cut): the gateway is
   * dead from then on, as a box without power. Without it, the error is thrown.
   */
  readonly onFault?: (e: unknown) => void;
}

export interface NodeGateway {
  readonly core: Gateway;
  /** Simulates the network going down or up (the core sees it as the Wi-Fi link). */
  network(up: boolean): void;
  stop(): Promise<void>;
  /** Power gone: the gateway stops at once, its connection dropped without a DISCONNECT (the broker sends its will). */
  kill(): void;
}

export function startNodeGateway(opts: NodeGatewayOptions): NodeGateway {
  const core = createGateway(opts.config, opts.ports);
  const started = performance.now();
  const speed = opts.speed ?? 1;
  const now = () => (performance.now() - started) * speed;
  let client: MqttClient | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  function run(effects: GatewayEffect[]): void {
    for (const e of effects) {
      opts.onEffect?.(e);
      switch (e.type) {
        case 'mqtt-connect':
          connect(e.clientId, e.will);
          break;
        case 'mqtt-disconnect':
          client?.end(true);
          client = undefined;
          break;
        case 'subscribe':
          client?.subscribe([...e.topics], { qos: 1 });
          break;
        case 'publish':
          client?.publish(e.topic, Buffer.from(e.payload), { qos: e.qos, retain: e.retain });
          break;
        case 'serial-write':
          opts.serial.write(e.bytes);
          break;
        case 'alarm-output':
          break; // no LED or buzzer on Node; the effect is visible to onEffect
        case 'wake':
          if (timer !== undefined) clearTimeout(timer);
          if (!stopped) timer = setTimeout(() => feed({ type: 'tick' }), Math.max(0, (e.at - now()) / speed));
          break;
      }
    }
  }

  function feed(ev: GatewayEvent): void {
    if (stopped) return;
    let effects: GatewayEffect[];
    try {
      effects = core.handle(ev, now());
    } catch (e) {
      if (opts.onFault === undefined) throw e;
      kill();
      opts.onFault(e);
      return;
    }
    run(effects);
  }

  function kill(): void {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    const c = client;
    client = undefined;
    c?.removeAllListeners('close');
    c?.stream?.destroy(); // no DISCONNECT: to the broker, a box that lost power
    c?.end(true);
  }

  function connect(clientId: string, will: { topic: string; payload: Uint8Array; qos: 0 | 1; retain: boolean }): void {
    client?.end(true);
    const c = mqtt.connect(opts.brokerUrl, {
      clientId,
      clean: true,
      reconnectPeriod: 0, // the core owns the reconnect policy
      connectTimeout: 5000,
      username: opts.username,
      password: opts.password,
      will: { topic: will.topic, payload: Buffer.from(will.payload), qos: will.qos, retain: will.retain },
    });
    client = c;
    let lost = false;
    const loss = () => {
      if (lost || client !== c) return;
      lost = true;
      client = undefined;
      c.end(true);
      feed({ type: 'mqtt-lost' });
    };
    c.on('connect', () => feed({ type: 'mqtt-connected' }));
    c.on('message', (topic, payload) => feed({ type: 'message', topic, payload: new Uint8Array(payload) }));
    c.on('close', loss);
    c.on('error', loss);
  }

  opts.serial.onData((bytes) => feed({ type: 'device-bytes', bytes }));
  feed({ type: 'boot' });
  const unix = (opts.trustedClock ?? (() => Date.now()))();
  if (unix !== undefined) feed({ type: 'clock', unixMs: unix });
  feed({ type: 'network', up: true });

  return {
    core,
    network: (up) => feed({ type: 'network', up }),
    kill,
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await new Promise<void>((resolve) => (client ? client.end(true, {}, () => resolve()) : resolve()));
    },
  };
}
