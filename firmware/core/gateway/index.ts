export { backoffMs, BOOTING, isLive, step, type Mode, type Session, type SessionEvent } from './mode.js';
export { createGateway, type Gateway } from './gateway.js';
export type { GatewayEffect, GatewayEvent, GatewayStats, Publish } from './effects.js';
export type { GatewayConfig, GatewayPorts, KeyValueStore } from './ports.js';
