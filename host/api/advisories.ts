/**
 * The fleet inventory and security advisories (docs/api.md "Inventory and advisories"):
 *   GET  /api/inventory      every gateway and its attached device (kind, vendor, product, model, serial, device firmware)
 *   GET  /api/advisories     the advisories imported, newest first, with what each found
 *   POST /api/advisories     a CSAF 2.0 document (up to 1 MiB): checked, matched, stored; one security alarm per affected bed
 */
import { ADVISORY_MAX_BYTES } from '../advisories/index.js';
import type { Host } from '../types.js';
import { EVERYONE, type On } from './router.js';

export function advisoryRoutes(on: On, host: Host, now: () => number): void {
  on('GET', '/api/inventory', EVERYONE, () => host.advisories.inventory());
  on('GET', '/api/advisories', EVERYONE, () => host.advisories.list());
  on('POST', '/api/advisories', ['biomed', 'admin'], async (c) => {
    const doc = await c.body(ADVISORY_MAX_BYTES);
    return { status: 201, body: await host.advisories.import(now(), c.user!.username, doc) };
  });
}
