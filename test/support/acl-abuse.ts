/**
 * The ACL abuse suite, one list of cases run against the embedded aedes broker (test/unit) and a real
 * Mosquitto configured by `vigil broker-config mosquitto` (test/services): a gateway publishing or
 * subscribing on another gateway's topics or the host's, wildcard subscriptions, `$SYS`, ids with
 * wildcards, separators, `$` or control characters, wrong secrets, no credentials.
 *
 * What both brokers must show: a denied publish never reaches the host (aedes drops the client,
 * Mosquitto drops the message), a denied subscription gets SUBACK failure (0x80) and receives nothing,
 * and a refused identity never connects.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { detail, encodeEvent, MAX_PACKET_BYTES, parseEvent } from '../../firmware/core/protocol/index.js';
import { idProblem, siteRoot, topic as gatewayTopic } from '../../firmware/core/protocol/topics.js';
import { issueSecret } from '../../host/broker/passwd.js';
import { sleep } from './ward.js';

export interface AbuseTarget {
  readonly url: string;
  readonly site: string;
  /** Issues (or returns) the secret of a username, written straight into the password file. */
  secret(user: string): string;
  /** Whether the broker ties the MQTT client id to the identity (the embedded broker does; Mosquitto cannot). */
  readonly clientIdBound: boolean;
  /**
   * Whether a denied subscription is answered with SUBACK failure (aedes), or granted and then
   * never delivered to (Mosquitto 2.0 checks read access per message). Either way nothing arrives.
   */
  readonly subackDenies: boolean;
  /**
   * Whether an id outside the syntax is refused at CONNECT even when a tampered password file holds
   * it (aedes). Mosquitto cannot check ids: there, only provisioning refuses them, and a tampered
   * file's user reaches no valid gateway's or the host's topics (what it can publish, the host refuses).
   */
  readonly badIdsRefusedAtConnect: boolean;
}

function connect(url: string, clientId: string, username?: string, password?: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { clientId, username, password, reconnectPeriod: 0, connectTimeout: 4000, clean: true });
    c.once('connect', () => resolve(c));
    c.once('error', (e) => {
      c.end(true);
      reject(e);
    });
    c.once('close', () => reject(new Error('closed before CONNACK')));
  });
}

/** The QoS the broker granted for one filter: 128 is SUBACK failure (mqtt.js reports that as an error). */
async function grantedQos(c: MqttClient, filter: string): Promise<number> {
  try {
    const g = await c.subscribeAsync(filter, { qos: 1 });
    return g[0]!.qos;
  } catch (e) {
    const granted = (e as { packet?: { granted?: number[] } }).packet?.granted;
    if (granted === undefined) throw e;
    return granted[0]!;
  }
}

/**
 * A probe: a well-formed `event` (what a gateway may send) carrying a tag, so what arrives can be
 * told apart; the broker's rules are about topics and identities, never about what a payload says.
 */
function probe(tag: string): Buffer {
  return Buffer.from(encodeEvent({ bootId: new Uint8Array(16), t: 0, clock: 'boot', class: 'technical', code: 'acl-probe', priority: 'info', detail: detail([['tag', tag]]) }));
}

/** The tag of a probe, or what else the payload was. */
function tagOf(payload: Uint8Array): string {
  const r = parseEvent(payload);
  if (!r.ok) return `<not an event: ${r.error}>`;
  const tag = r.value.detail.get('tag');
  return typeof tag === 'string' ? tag : '<an event without a tag>';
}

async function refused(url: string, clientId: string, username?: string, password?: string): Promise<boolean> {
  try {
    const c = await connect(url, clientId, username, password);
    await c.endAsync(true);
    return false;
  } catch {
    return true;
  }
}

export function aclAbuseSuite(name: string, target: () => AbuseTarget): void {
  describe(`ACL abuse on ${name}`, () => {
    const t = () => target();
    const cid = (id: string) => `vigil-${t().site}-${id}`;
    const root = () => siteRoot(t().site);

    /** A host-side watcher on the whole site, and a way to prove that a message did not arrive. */
    async function watch(): Promise<{ seen: string[]; settle(): Promise<void>; end(): Promise<void> }> {
      const host = await connect(t().url, cid('host'), 'host', t().secret('host'));
      const seen: string[] = [];
      host.on('message', (topic, payload) => seen.push(`${topic} ${tagOf(payload)}`));
      await host.subscribeAsync(`${root()}/#`, { qos: 1 });
      const marker = await connect(t().url, cid('gw-m'), 'gw-m', t().secret('gw-m'));
      return {
        seen,
        async settle() {
          // a legitimate message from another client, published after the abuse, must arrive; then a margin
          const tag = `marker-${Math.random()}`;
          await marker.publishAsync(gatewayTopic(t().site, 'gw-m', 'event'), probe(tag), { qos: 1 });
          const end = performance.now() + 5000;
          while (!seen.some((s) => s.endsWith(tag))) {
            if (performance.now() > end) throw new Error('the marker never arrived: the watcher is not working');
            await sleep(20);
          }
          await sleep(200);
        },
        async end() {
          await host.endAsync(true);
          await marker.endAsync(true);
        },
      };
    }

    it('a gateway cannot publish on another gateway\'s topics, the host\'s, the trust list or its own inbound channels', async () => {
      const w = await watch();
      const gw1 = await connect(t().url, cid('gw-a'), 'gw-a', t().secret('gw-a'));
      gw1.on('error', () => undefined);
      const forbidden = ['gw-b/vitals', 'gw-b/state', 'gw-b/cmd', 'gw-b/cmd/result', 'host/state', 'trust', 'gw-a/cmd', 'gw-a/ack', 'gw-a/other', 'gw-a'].map((x) => `${root()}/${x}`);
      forbidden.push(`vigil/v1/other-site/gw-a/vitals`, 'vigil/v1', 'elsewhere/topic');
      for (const topic of forbidden) gw1.publish(topic, probe('abuse'), { qos: 1 });
      await w.settle();
      expect(w.seen.filter((s) => s.includes('abuse'))).toEqual([]);
      gw1.end(true);
      // and its own gateway-to-host channels do arrive
      const gw1b = await connect(t().url, cid('gw-a'), 'gw-a', t().secret('gw-a'));
      await gw1b.publishAsync(gatewayTopic(t().site, 'gw-a', 'event'), probe('legit'), { qos: 1 });
      await w.settle();
      expect(w.seen).toContain(`${root()}/gw-a/event legit`);
      await gw1b.endAsync(true);
      await w.end();
    });

    it('a packet over the protocol\'s size never reaches the host, and a payload over its channel\'s bound neither', async () => {
      const w = await watch();
      const big = await connect(t().url, cid('gw-a'), 'gw-a', t().secret('gw-a'));
      big.on('error', () => undefined);
      big.publish(gatewayTopic(t().site, 'gw-a', 'event'), Buffer.concat([probe('abuse-oversized'), Buffer.alloc(MAX_PACKET_BYTES)]), { qos: 1 });
      await w.settle();
      expect(w.seen.filter((s) => s.includes('oversized') || s.includes('not an event'))).toEqual([]);
      big.end(true);
      await w.end();
    });

    it('a gateway cannot leave a will on another gateway\'s state (a forged death)', async () => {
      const w = await watch();
      const forged = await new Promise<MqttClient | undefined>((resolve) => {
        const c = mqtt.connect(t().url, { clientId: cid('gw-a'), username: 'gw-a', password: t().secret('gw-a'), reconnectPeriod: 0, will: { topic: gatewayTopic(t().site, 'gw-b', 'state'), payload: probe('forged-death abuse'), qos: 1, retain: true } });
        c.once('connect', () => resolve(c));
        c.once('error', () => resolve(undefined));
        c.once('close', () => resolve(undefined));
      });
      // connected or refused, the broker must never publish that will: end the connection uncleanly
      (forged?.stream as { destroy?: () => void } | undefined)?.destroy?.();
      await sleep(300);
      await w.settle();
      expect(w.seen.filter((x) => x.includes('forged-death'))).toEqual([]);
      await w.end();
    });

    it('a gateway cannot subscribe to another gateway\'s commands or acks, to wildcards, or to $SYS', async () => {
      const gw1 = await connect(t().url, cid('gw-a'), 'gw-a', t().secret('gw-a'));
      const got: string[] = [];
      gw1.on('message', (topic) => got.push(topic));
      const denied = [`${root()}/gw-b/cmd`, `${root()}/gw-b/ack`, `${root()}/+/cmd`, `${root()}/#`, '#', `${root()}/gw-b/vitals`, '$SYS/#', '$SYS/broker/version', `${root()}/gw-a/#`];
      for (const filter of denied) {
        const qos = await grantedQos(gw1, filter);
        if (t().subackDenies) expect({ filter, qos }).toEqual({ filter, qos: 128 });
      }
      const allowed = [`${root()}/gw-a/cmd`, `${root()}/gw-a/ack`, `${root()}/host/state`, `${root()}/trust`];
      for (const filter of allowed) {
        expect({ filter, qos: await grantedQos(gw1, filter) }).toEqual({ filter, qos: 1 });
      }
      // nothing meant for gw-b reaches gw-a, nor anything of $SYS (retained there, so it would come at once)
      const host = await connect(t().url, cid('host'), 'host', t().secret('host'));
      for (const ch of ['cmd', 'ack', 'vitals', 'state'] as const) await host.publishAsync(gatewayTopic(t().site, 'gw-b', ch), probe('for b'), { qos: 1 });
      await host.publishAsync(gatewayTopic(t().site, 'gw-a', 'cmd'), probe('for a'), { qos: 1 });
      const end = performance.now() + 5000;
      while (!got.includes(`${root()}/gw-a/cmd`) && performance.now() < end) await sleep(20);
      await sleep(1000);
      expect(got).toEqual([`${root()}/gw-a/cmd`]);
      await host.endAsync(true);
      await gw1.endAsync(true);
    });

    it('the host cannot reach $SYS or other sites', async () => {
      const host = await connect(t().url, cid('host'), 'host', t().secret('host'));
      const got: string[] = [];
      host.on('message', (topic) => got.push(topic));
      for (const filter of ['$SYS/#', '$SYS/broker/version', 'vigil/v1/other-site/#']) {
        const qos = await grantedQos(host, filter);
        if (t().subackDenies) expect({ filter, qos }).toEqual({ filter, qos: 128 });
      }
      const other = await connect(t().url, cid('gw-a'), 'gw-a', t().secret('gw-a'));
      other.publish(gatewayTopic('other-site', 'gw-a', 'vitals'), probe('x'), { qos: 1 });
      await sleep(1000);
      other.end(true);
      expect(got).toEqual([]);
      await host.endAsync(true);
    });

    it('refuses ids with wildcards, separators, $ or control characters even when they hold a secret, or leaves them no rights', async () => {
      const w = await watch();
      let tried = 0;
      for (const bad of ['gw+1', 'gw#', 'gw-a/vitals', '$gw', 'gw\u0001', 'Gw-Upper']) {
        let secret: string;
        try {
          secret = t().secret(bad);
        } catch {
          continue; // the password file cannot hold it at all
        }
        tried++;
        let c: MqttClient;
        try {
          c = await connect(t().url, `vigil-${t().site}-x${tried}`, bad, secret);
        } catch {
          continue; // refused at CONNECT
        }
        expect({ bad, connected: true, refusedAtConnect: t().badIdsRefusedAtConnect }).toEqual({ bad, connected: true, refusedAtConnect: false });
        // connected (Mosquitto): it reads nothing, and reaches no valid gateway's or the host's topics
        const got: string[] = [];
        c.on('message', (topic) => got.push(topic));
        c.on('error', () => undefined);
        await grantedQos(c, `${root()}/#`).catch(() => 128);
        await grantedQos(c, '#').catch(() => 128);
        for (const topic of [`${root()}/${bad}/state`, `${root()}/${bad}/vitals`, `${root()}/gw-a/vitals`, `${root()}/host/state`]) c.publish(topic, probe('abuse-bad-id'), { qos: 1 });
        await w.settle();
        expect({ bad, got }).toEqual({ bad, got: [] });
        c.end(true);
      }
      expect(tried).toBeGreaterThanOrEqual(4);
      const arrived = w.seen.filter((x) => x.includes('abuse')).map((x) => x.split(' ')[0]!);
      if (t().badIdsRefusedAtConnect) expect(arrived).toEqual([]);
      // whatever arrived is under a gateway level that is not a valid id, which the host refuses and counts
      for (const topic of arrived) expect({ topic, hostRefuses: idProblem(topic.split('/')[3] ?? '', 'gateway') !== undefined || topic.split('/').length !== 5 }).toEqual({ topic, hostRefuses: true });
      await w.end();
    });

    it('provisioning refuses such ids, so no password file Vigil writes holds them', () => {
      for (const bad of ['gw+1', 'gw#', 'gw-a/vitals', '$gw', 'gw\u0001', 'host/x', 'trust']) {
        expect(() => issueSecret('/nonexistent/passwd', bad)).toThrow(/cannot issue a secret/);
      }
    });

    it('refuses a wrong secret, another gateway\'s secret, and no credentials', async () => {
      expect(await refused(t().url, cid('gw-a'), 'gw-a', 'not-the-secret')).toBe(true);
      expect(await refused(t().url, cid('gw-a'), 'gw-a', t().secret('gw-b'))).toBe(true);
      expect(await refused(t().url, cid('gw-a'))).toBe(true);
      expect(await refused(t().url, cid('gw-z'), 'gw-z', 'never-provisioned')).toBe(true);
    });

    it('binds the client id to the identity where the broker can', async () => {
      const result = await refused(t().url, cid('gw-b'), 'gw-a', t().secret('gw-a'));
      expect(result).toBe(t().clientIdBound);
    });
  });
}
