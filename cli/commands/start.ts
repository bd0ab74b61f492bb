import type { Command } from '../command.js';

/**
 * `npm start`: the main job (host with its embedded broker, a simulated ward, the dashboard).
 * The parts arrive issue by issue; until they do, this says plainly what exists and what does not.
 */
const parts: ReadonlyArray<{ part: string; ready: boolean; note: string }> = [
  { part: 'firmware core: CBOR profile', ready: true, note: 'firmware/core/cbor (try: vigil cbor --hex a26161016162820203)' },
  { part: 'firmware core: signed commands', ready: true, note: 'firmware/core/command (try: vigil keys/trust/sign/verify)' },
  { part: 'firmware core: flash vitals log', ready: true, note: 'firmware/core/log, firmware/core/vitals (npm run bench -- log)' },
  { part: 'gateway runtime', ready: true, note: 'firmware/core/gateway (try: vigil gateway --help)' },
  { part: 'host service + embedded broker', ready: false, note: 'not built yet' },
  { part: 'ward simulator', ready: false, note: 'not built yet' },
  { part: 'nursing-station dashboard', ready: false, note: 'not built yet' },
];

export const startCommand: Command = {
  name: 'start',
  summary: 'start the host, its embedded broker, a simulated ward and the dashboard',
  usage: 'vigil start',
  async run() {
    console.log('Vigil: what this checkout can run today\n');
    for (const p of parts) console.log(`  [${p.ready ? 'ready' : ' --  '}] ${p.part.padEnd(34)} ${p.note}`);
    console.log('\nThe host, simulator and dashboard do not exist yet, so there is nothing long-running to start.');
    return 0;
  },
};
