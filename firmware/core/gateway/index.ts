export { backoffMs, transition, type ConnState } from './connection.js';
export { createGateway, type Gateway, type GatewayEffect, type GatewayEvent, type GatewayStats, type Publish } from './gateway.js';
export type { GatewayConfig, GatewayPorts, KeyValueStore } from './ports.js';
export { hostStateTopic, idProblem, topic, trustTopic, type Channel } from './topics.js';
