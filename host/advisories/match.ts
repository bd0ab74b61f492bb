/**
 * Matching an advisory's affected products against the fleet's devices. A device is named by its
 * profile's product identity (firmware/profiles: vendor, product name and the other spellings
 * advisories use) and its own firmware version (its hello, through the gateway's birth). Names match
 * whole, case and punctuation aside: "Alaris PC Unit Model 8015" is not "Alaris Systems Manager".
 *
 * For a device whose product is named, the version decides:
 *  - the range is understood and the device's version is in it: affected;
 *  - understood and not in it: not affected;
 *  - not understood (free text Vigil cannot read), or the device reports no comparable version: the
 *    bed goes on the review list with the reason, for a person to decide. Never matched by guessing.
 */
import type { ProductIdentity } from '../../firmware/core/command/profile.js';
import type { AffectedProduct } from './csaf.js';
import { describeRange, inRange } from './versions.js';

export interface InventoryDevice {
  readonly gateway: string;
  readonly bed: string | null;
  readonly model: string;
  readonly firmware: string | null;
  readonly product: ProductIdentity | undefined;
}

export interface Finding {
  readonly gateway: string;
  readonly bed: string | null;
  readonly model: string;
  readonly firmware: string | null;
  readonly product: AffectedProduct;
  /** Affected: the range in words. Review: why no decision could be made. */
  readonly why: string;
}

export interface MatchReport {
  readonly affected: readonly Finding[];
  readonly review: readonly Finding[];
}

export const normalName = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();

function sameVendor(advisoryVendor: string | undefined, p: ProductIdentity): boolean {
  if (advisoryVendor === undefined) return true; // a full_product_name without a vendor branch: the product name decides
  const v = normalName(advisoryVendor);
  return [p.vendor, ...p.vendorAliases].some((x) => normalName(x) === v);
}

function sameProduct(name: string, p: ProductIdentity): boolean {
  const n = normalName(name);
  return [p.name, ...p.aliases].some((x) => normalName(x) === n);
}

export function matchAdvisory(affected: readonly AffectedProduct[], devices: readonly InventoryDevice[]): MatchReport {
  const hits: Finding[] = [];
  const review: Finding[] = [];
  for (const d of devices) {
    if (d.product === undefined) continue;
    for (const a of affected) {
      if (!sameVendor(a.vendor, d.product) || !sameProduct(a.name, d.product)) continue;
      const base = { gateway: d.gateway, bed: d.bed, model: d.model, firmware: d.firmware, product: a };
      if (!a.range.ok) {
        review.push({ ...base, why: `the advisory's version "${a.versionText ?? ''}" is not understood (${a.range.reason})` });
        continue;
      }
      if (a.range.range.kind === 'all') {
        hits.push({ ...base, why: 'all versions' });
        continue;
      }
      const inside = d.firmware === null ? undefined : inRange(d.firmware, a.range.range);
      if (inside === undefined) review.push({ ...base, why: d.firmware === null ? 'the device reports no firmware version' : `the device's firmware "${d.firmware}" is not a comparable version` });
      else if (inside) hits.push({ ...base, why: describeRange(a.range.range) });
    }
  }
  // one finding per bed and product: an advisory may list the same product under several ids
  const once = (xs: Finding[]) => xs.filter((x, i) => xs.findIndex((y) => y.gateway === x.gateway && y.product.id === x.product.id) === i);
  const affectedOnce = once(hits);
  return { affected: affectedOnce, review: once(review).filter((r) => !affectedOnce.some((a) => a.gateway === r.gateway)) };
}
