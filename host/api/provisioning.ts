/**
 * Registering a gateway from its provisioning bundle, and a new trust list (docs/api.md, docs/provisioning.md):
 *   POST /api/gateways/register   {bundle: base64}   → 201 {gateway, expectedModel, provisionedAt}
 *   PUT  /api/trust               {trust: base64}    → {epoch, issued, signers, revoked}: in force and published to every gateway
 */
import { BUNDLE_MAX_BYTES } from '../../firmware/core/provision/bundle.js';
import { registerGateway } from '../provisioning.js';
import type { Host } from '../types.js';
import { HttpError, str, type On } from './router.js';

export function provisioningRoutes(on: On, host: Host, now: () => number): void {
  on('POST', '/api/gateways/register', ['biomed', 'admin'], async (c) => {
    const text = str(await c.body(), 'bundle');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length > Math.ceil(BUNDLE_MAX_BYTES / 3) * 4) throw new HttpError(400, `"bundle" must be the bundle file in base64 (at most ${BUNDLE_MAX_BYTES} bytes)`);
    return { status: 201, body: registerGateway(host, now(), c.user!.username, new Uint8Array(Buffer.from(text, 'base64'))) };
  });
  on('PUT', '/api/trust', ['admin'], async (c) => {
    const text = str(await c.body(), 'trust');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw new HttpError(400, '"trust" must be the signed trust list file in base64');
    const t = host.trustKeeper.replace(now(), c.user!.username, new Uint8Array(Buffer.from(text, 'base64')));
    return { epoch: t.epoch, issued: t.issued, signers: t.signers.size, revoked: t.revoked.size };
  });
}
