/**
 * What the conductor (`vigil sim`, run.ts) and its bed workers (worker.ts, each a process running a
 * share of the ward's gateways) say to each other over Node's IPC channel. Plain JSON: bytes as hex.
 */
import type { DeviceKind } from '../../firmware/core/command/index.js';
import type { GatewayConfig } from '../../firmware/core/gateway/index.js';
import type { CutOutcome } from '../../firmware/platform/node/nor-flash.js';
import type { LineFaults } from '../line.js';

export interface BedSpec {
  readonly bed: number;
  readonly id: string;
  readonly kind: DeviceKind;
  readonly serial: string;
  readonly seed: number;
  /** The gateway's broker secret, as provisioned. */
  readonly secret: string;
}

export interface WorkerStart {
  readonly type: 'start';
  readonly site: string;
  readonly rootKey: string;
  readonly broker: { readonly host: string; readonly port: number };
  readonly beds: readonly BedSpec[];
  readonly speed: number;
  /** Unix ms at which scenario time 0 began, shared by every worker (the gateways' trusted clock). */
  readonly epoch: number;
  readonly serial: LineFaults;
  readonly flashSectors: number;
  readonly config: Partial<GatewayConfig>;
}

/** A request the conductor waits on carries `req`; the worker's answer names it. */
export type ToWorker = Request & { readonly req?: number };

type Request =
  | WorkerStart
  | { readonly type: 'partition'; readonly ids: readonly string[]; readonly down: boolean; readonly silent: boolean }
  | { readonly type: 'serial-noise'; readonly ids: readonly string[]; readonly line: LineFaults }
  | { readonly type: 'power-cut'; readonly ids: readonly string[]; readonly offMs: number; readonly outcome: CutOutcome }
  | { readonly type: 'inject'; readonly id: string; readonly topic: string; readonly payload: string; readonly times: number }
  | { readonly type: 'replay'; readonly id: string; readonly from: string }
  | { readonly type: 'device'; readonly id: string; readonly action: 'local-change' | 'swap' }
  | { readonly type: 'clone'; readonly id: string; readonly forMs: number }
  | { readonly type: 'settle' }
  | { readonly type: 'report'; readonly latencies: boolean }
  | { readonly type: 'stop' };

/** A gateway's view, as the worker sees it: what its device made and what it did with it. */
export interface BedReport {
  readonly id: string;
  readonly bed: number;
  readonly kind: DeviceKind;
  /** Samples the device made. */
  readonly produced: number;
  /** Samples the gateway took into a batch, over all its boots. */
  readonly taken: number;
  /** Samples in batches the gateway's log stored (append returned), over all its boots. */
  readonly logged: number;
  readonly powerCuts: number;
  /** Every boot id the gateway ran under (hex): the host's batches of this run are theirs. */
  readonly boots: readonly string[];
  /** Messages the device's link gave up on (no ack after every resend) or could not queue. */
  readonly linkDropped: number;
  /** Most flash in use by records the host had not yet committed (bytes), and the log's size. */
  readonly maxBacklog: number;
  readonly capacity: number;
  /** Real ms from each return of the network to the end of the backlog's drain. */
  readonly drains: readonly number[];
  /** Setting changes the device applied (from commands), and its own alarms raised. */
  readonly applied: number;
  readonly deviceAlarms: number;
  /** Reasons the gateway gave for commands it refused, in order. */
  readonly refusals: readonly string[];
  /** Security events the gateway published (codes). */
  readonly securityEvents: readonly string[];
  readonly mode: string;
  readonly nonce: string | undefined;
  /** Live vitals publish times (unix ms, fractional) by `<boot id hex>/<seq>`, for the latency figure. */
  readonly published?: ReadonlyArray<readonly [string, number]>;
  /** Why the gateway is still busy (a batch not yet flushed, a backlog not yet drained…), or undefined. */
  readonly busy: string | undefined;
}

export type FromWorker = (
  | { readonly type: 'ready' }
  | { readonly type: 'done'; readonly what: string }
  | { readonly type: 'report'; readonly beds: readonly BedReport[] }
  | { readonly type: 'error'; readonly error: string }
) & { readonly re?: number };
