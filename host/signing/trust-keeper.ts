/**
 * The trust list the host holds and publishes, replaceable while it runs: a new root-signed list
 * (a signer added, rotated or revoked; epoch + 1) is checked as a gateway checks it — signed by the
 * site's root key, for this site, newer than the one in force — then saved (written aside and renamed
 * over trust.cose, so a cut leaves the old or the new file, never half of one), published retained on
 * the trust topic (every gateway moves to it at once, and a gateway connecting later gets it first),
 * and audited. The host's own checks (a revoked signer's command refused with 403) use it at once.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { acceptTrustList, type TrustList } from '../../firmware/core/command/index.js';
import type { AuditLog } from '../audit.js';
import { createNodeEd25519Verify } from '../crypto/ed25519.js';

export class TrustPublishError extends Error {
  override readonly name = 'TrustPublishError';
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

export class TrustKeeper {
  private held: { trust: TrustList | undefined; bytes: Uint8Array | undefined };

  constructor(
    initial: { readonly trust: TrustList | undefined; readonly trustBytes: Uint8Array | undefined },
    private readonly o: { readonly site: string; readonly rootKey?: Uint8Array; readonly trustFile?: string },
    private readonly audit: AuditLog,
    private readonly publish: (bytes: Uint8Array) => void,
  ) {
    this.held = { trust: initial.trust, bytes: initial.trustBytes };
  }

  get trust(): TrustList | undefined {
    return this.held.trust;
  }

  get bytes(): Uint8Array | undefined {
    return this.held.bytes;
  }

  replace(now: number, by: string, bytes: Uint8Array): TrustList {
    if (this.o.rootKey === undefined || this.o.trustFile === undefined) throw new TrustPublishError('this host runs without a trust list (no root key or trust file): start it on a site made with vigil site init', 409);
    const r = acceptTrustList(bytes, this.o.rootKey, this.held.trust, createNodeEd25519Verify());
    if (!r.ok) throw new TrustPublishError(`trust list refused: ${r.error.type}: ${r.error.detail}`, r.error.type === 'bad-signature' || r.error.type === 'malformed' || r.error.type === 'bad-claims' ? 400 : 409);
    if (r.value.site !== this.o.site) throw new TrustPublishError(`that is the trust list of site ${r.value.site}, not ${this.o.site}`, 400);
    const before = this.held.trust;
    if (before !== undefined && r.value.epoch === before.epoch && r.value.issued === before.issued) throw new TrustPublishError(`epoch ${before.epoch} issued ${before.issued} is already in force`, 409);
    const tmp = `${this.o.trustFile}.new`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, this.o.trustFile);
    this.held = { trust: r.value, bytes };
    this.publish(bytes);
    this.audit.append(now, by, 'trust-published', `trust/${r.value.epoch}`, { epoch: r.value.epoch, issued: r.value.issued, signers: r.value.signers.size, revoked: r.value.revoked.size, was: before === undefined ? null : before.epoch });
    return r.value;
  }
}
