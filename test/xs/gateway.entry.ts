import { serve } from './bridge.js';
import { fromHex } from '../../firmware/core/hex.js';
import { createGatewayScenario, runGatewayScenario, type Scenario } from '../portable/gateway-scenario.js';

let scenario: Scenario | undefined;
let kept: unknown;

serve({
  run: (minutes: number) => runGatewayScenario(minutes),
  gc: () => ((globalThis as { gc?: () => void }).gc?.(), true),
  create: (minutes: number, trustHex?: string) =>
    ((scenario = createGatewayScenario(minutes, trustHex === undefined ? {} : { trustBytes: fromHex(trustHex)!, commands: false })), true),
  advance: (ms: number) => (scenario!.advanceTo(ms), true),
  report: () => scenario!.report(),
  drop: () => ((scenario = undefined), (kept = undefined), true),
  /** Keeps only the gateway (its log, link, gate, batcher) and drops the simulation around it. */
  keepGatewayOnly: () => ((kept = scenario!.gateway), (scenario = undefined), kept !== undefined),
  dropGateway: () => ((kept = undefined), true),
});
