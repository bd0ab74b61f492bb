/**
 * The CDDL of docs/protocol.md, written from the schemas themselves: the docs' block must equal this
 * (test/unit/protocol.test.ts), so the page cannot drift from what the code parses.
 */
import { batchBody, column } from '../vitals/batch.js';
import { ack, birth, bootId, buffer, clock, commandResult, death, deviceIdentity, deviceSettings, dropBody, eventMessage, historyRecord, hostState, lowWater, mode, nonce, timeMs, vitalsRecord } from './messages.js';

export function protocolCddl(): string {
  const rules: Array<string | { readonly rule: string }> = [
    '; ---- shared pieces ----',
    timeMs, clock, bootId, nonce, deviceIdentity,
    '; ---- state: birth (retained) and death (the MQTT will, rebuilt on every connect) ----',
    birth, mode, buffer, deviceSettings, death,
    '; ---- vitals and history: an envelope (integer keys) around the flash record as stored ----',
    vitalsRecord, historyRecord, lowWater,
    '; ---- the records: a vitals batch (integer keys) and a DROP record ----',
    batchBody, column, dropBody,
    '; ---- event ----',
    eventMessage,
    '; ---- cmd/result ----',
    commandResult,
    '; ---- ack (host → gateway) ----',
    ack,
    '; ---- host/state ----',
    hostState,
  ];
  return rules.map((r) => (typeof r === 'string' ? `\n${r}` : r.rule)).join('\n').trim();
}
