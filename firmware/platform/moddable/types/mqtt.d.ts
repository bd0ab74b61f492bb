/*
 * Vigil's declaration of the Moddable SDK's `mqtt` module (modules/network/mqtt/mqtt.js), the one MQTT
 * client among the SDK's modules (its QoS 1 client, `mqtt/js`, lives in the SDK's examples). MQTT
 * 3.1.1 over a socket, clean session, QoS 0 publishes and subscriptions, a will. Only what Vigil uses.
 */
declare module 'mqtt' {
  interface Will {
    topic: string;
    message: ArrayBuffer;
    retain?: boolean;
    /** The will's QoS. */
    quality?: 0 | 1 | 2;
  }
  export default class Client {
    constructor(options: { host: string; port?: number; id?: string; user?: string; password?: string; will?: Will; /** keep-alive, ms */ timeout?: number; /** called with `new` instead of the SDK's Socket */ Socket?: unknown });
    onReady?: () => void;
    onMessage?: (topic: string, body: ArrayBuffer) => void;
    onClose?: () => void;
    publish(topic: string, data: ArrayBuffer | string, flags?: { retain?: boolean; quality?: 0 | 1 | 2 }): void;
    subscribe(topic: string): void;
    close(immediate?: boolean): void;
  }
}
