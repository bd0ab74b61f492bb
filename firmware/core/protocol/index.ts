export * from './messages.js';
export { Problem, isProblem, type Schema } from './schema.js';
export * from './topics.js';
export { protocolCddl } from './cddl.js';
