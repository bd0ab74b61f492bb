/**
 * The XS side of the test harness: installs `handleCommand`, which xsnap calls with each message
 * from Node. A message is JSON `{ method, args }`; the reply is JSON `{ result }` or `{ thrown }`.
 * This file is test scaffolding bundled into the XS worker, not firmware: it may use the
 * TextEncoder/TextDecoder that xsnap's XS provides.
 */
type Method = (...args: never[]) => unknown;

declare const TextEncoder: { new (): { encode(s: string): Uint8Array } };
declare const TextDecoder: { new (): { decode(b: Uint8Array): string } };

export function serve(methods: Record<string, Method>): void {
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  (globalThis as { handleCommand?: (m: ArrayBuffer) => ArrayBuffer }).handleCommand = (message) => {
    let reply: unknown;
    try {
      const { method, args } = JSON.parse(dec.decode(new Uint8Array(message))) as { method: string; args: unknown[] };
      const fn = methods[method];
      if (fn === undefined) throw new Error(`no method ${method} in this XS bundle`);
      reply = { result: (fn as (...a: unknown[]) => unknown)(...args) };
    } catch (e) {
      reply = { thrown: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
    }
    const bytes = enc.encode(JSON.stringify(reply));
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  };
}
