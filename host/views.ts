/**
 * How the host's rows look to the station (the API, the WebSocket stream and the web app): a gateway
 * and a command, with their JSON columns parsed. One place, so the stream and the API never differ.
 */
import { toHex } from '../firmware/core/hex.js';
import type { CommandRow } from './commands.js';
import type { CommandState, GatewayRow, GatewayState } from './types.js';

export function gatewayView(g: GatewayRow): GatewayState {
  return {
    id: g.id,
    bed: g.bed,
    presence: g.presence,
    presenceSince: g.presence_since,
    mode: g.mode,
    bdSeq: g.bd_seq,
    bootId: g.boot_id ? toHex(g.boot_id) : null,
    firmware: g.firmware,
    device: g.device_kind ? { kind: g.device_kind, model: g.device_model, serial: g.device_serial, firmware: g.device_firmware } : null,
    buffer: g.buffer_capacity === null ? null : { used: g.buffer_used, capacity: g.buffer_capacity, dropped: g.buffer_dropped },
    settings: g.settings === null ? null : (JSON.parse(g.settings) as Record<string, number | string>),
    lastSeen: g.last_seen,
    birthAt: g.birth_at,
    expectedModel: g.expected_model,
    provisionedAt: g.provisioned_at,
  };
}

export function commandView(x: CommandRow): CommandState {
  return { ...x, params: JSON.parse(x.params) as unknown, previous: x.previous === null ? null : (JSON.parse(x.previous) as unknown) };
}
