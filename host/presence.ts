/**
 * Gateway presence from Sparkplug-style birth and death (docs/protocol.md): a birth (`state` with
 * online: true) makes a gateway online, or degraded when it says so itself (host unreachable, backlog
 * draining) or has no identified device; a death whose bdSeq matches the current birth makes it
 * offline (a stale death, from a connection already replaced, is ignored); a gateway whose heartbeat
 * (its state, every 30 s) stops is offline too.
 */
import type { CborValue } from '../firmware/core/cbor/index.js';

export type Presence = 'online' | 'degraded' | 'offline';

export interface Birth {
  readonly online: true;
  readonly bdSeq: number;
  readonly bootId: Uint8Array;
  readonly fw: string;
  readonly device: { readonly kind: string; readonly model: string; readonly serial: string } | null;
  readonly nonce: Uint8Array;
  readonly mode: string;
  readonly fill: { readonly used: number; readonly capacity: number; readonly dropped: number };
  readonly t: number;
  readonly clock: string;
}

export interface Death {
  readonly online: false;
  readonly bdSeq: number;
}

const uint = (v: CborValue | undefined) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined);
const str = (v: CborValue | undefined) => (typeof v === 'string' && v.length <= 64 ? v : undefined);

export function parseState(v: CborValue): Birth | Death | string {
  if (!(v instanceof Map)) return 'state is a CBOR map';
  const online = v.get('online');
  const bdSeq = uint(v.get('bdSeq'));
  if (bdSeq === undefined) return 'bdSeq must be an unsigned integer';
  if (online === false) return v.size === 2 ? { online: false, bdSeq } : 'a death holds only online and bdSeq';
  if (online !== true) return 'online must be true or false';
  const bootId = v.get('bootId');
  const nonce = v.get('nonce');
  const fw = str(v.get('fw'));
  const mode = v.get('mode');
  const t = uint(v.get('t'));
  const clock = v.get('clock');
  const d = v.get('device');
  const f = v.get('fill');
  if (!(bootId instanceof Uint8Array) || bootId.length !== 16) return 'bootId must be 16 bytes';
  if (!(nonce instanceof Uint8Array) || nonce.length !== 16) return 'nonce must be 16 bytes';
  if (fw === undefined || t === undefined || (clock !== 'utc' && clock !== 'boot')) return 'fw, t and clock are required';
  if (mode !== 'online' && mode !== 'degraded' && mode !== 'recovering') return 'mode must be online, degraded or recovering';
  let device: Birth['device'] = null;
  if (d !== null) {
    const kind = d instanceof Map ? str(d.get('kind')) : undefined;
    const model = d instanceof Map ? str(d.get('model')) : undefined;
    const serial = d instanceof Map ? str(d.get('serial')) : undefined;
    if (kind === undefined || model === undefined || serial === undefined) return 'device must be null or { kind, model, serial }';
    device = { kind, model, serial };
  }
  const used = f instanceof Map ? uint(f.get('used')) : undefined;
  const capacity = f instanceof Map ? uint(f.get('capacity')) : undefined;
  const dropped = f instanceof Map ? uint(f.get('dropped')) : undefined;
  if (used === undefined || capacity === undefined || dropped === undefined) return 'fill must be { used, capacity, dropped }';
  return { online: true, bdSeq, bootId, fw, device, nonce, mode, fill: { used, capacity, dropped }, t, clock };
}

export function presenceOf(b: Birth): Presence {
  return b.mode === 'online' && b.device !== null ? 'online' : 'degraded';
}
