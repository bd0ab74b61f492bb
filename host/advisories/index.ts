/**
 * Security advisories at the host: a CSAF 2.0 document is checked and read (csaf.ts), matched against
 * the fleet's inventory (match.ts), stored (a newer revision replaces the older), audited, and turns
 * into one security alarm per affected bed, naming the advisory, the product and its firmware, the
 * CVEs, the highest CVSS score and the remediations. Beds whose match needs a person's judgement
 * (a range Vigil cannot read, a device that reports no version) come back in the answer's `review`.
 */
import type { DeviceProfile } from '../../firmware/core/command/profile.js';
import type { Alarms, Priority } from '../alarms.js';
import type { AuditLog } from '../audit.js';
import type { Db } from '../store/db.js';
import { readAdvisory, type Advisory } from './csaf.js';
import { matchAdvisory, type Finding, type InventoryDevice } from './match.js';
import { compareVersions } from './versions.js';

export class AdvisoryError extends Error {
  override readonly name = 'AdvisoryError';
  constructor(message: string, readonly status: number, readonly errors: readonly string[] = []) {
    super(message);
  }
}

/** A gateway and its attached device, as its last birth reported them; vendor and product from the device's profile. */
export interface InventoryEntry {
  readonly gateway: string;
  readonly bed: string | null;
  readonly presence: string;
  readonly gatewayFirmware: string | null;
  readonly kind: string | null;
  readonly vendor: string | null;
  readonly product: string | null;
  readonly model: string | null;
  readonly serial: string | null;
  readonly deviceFirmware: string | null;
  readonly lastSeen: number | null;
}

export interface StoredAdvisory {
  readonly id: string;
  readonly version: string;
  readonly title: string;
  readonly imported: number;
  readonly imported_by: string;
  readonly summary: unknown;
}

export interface ImportResult {
  readonly advisory: { readonly id: string; readonly version: string; readonly title: string; readonly cves: readonly string[]; readonly cvss: number | undefined };
  /** Whether this revision replaced a stored one (false: the same or an older revision was already stored; nothing raised again). */
  readonly stored: boolean;
  readonly products: number;
  readonly affectedProducts: number;
  readonly notUnderstood: ReadonlyArray<{ readonly product: string; readonly versionText: string | null; readonly reason: string }>;
  readonly affected: readonly BedFinding[];
  readonly review: readonly BedFinding[];
}

export interface BedFinding {
  readonly gateway: string;
  readonly bed: string | null;
  readonly model: string;
  readonly firmware: string | null;
  readonly product: string;
  readonly why: string;
  readonly alarm?: number;
}

/** Every gateway and its attached device from the gateways table (their last births); vendor and product from the device's profile. */
export function readInventory(db: Db, profiles: ReadonlyMap<string, DeviceProfile>): InventoryEntry[] {
  const rows = db
    .prepare('SELECT id, bed, presence, firmware, device_kind, device_model, device_serial, device_firmware, last_seen FROM gateways ORDER BY id')
    .all() as Array<{ id: string; bed: string | null; presence: string; firmware: string | null; device_kind: string | null; device_model: string | null; device_serial: string | null; device_firmware: string | null; last_seen: number | null }>;
  return rows.map((r) => {
    const product = r.device_model === null ? undefined : profiles.get(r.device_model)?.product;
    return {
      gateway: r.id,
      bed: r.bed,
      presence: r.presence,
      gatewayFirmware: r.firmware,
      kind: r.device_kind,
      vendor: product?.vendor ?? null,
      product: product?.name ?? null,
      model: r.device_model,
      serial: r.device_serial,
      deviceFirmware: r.device_firmware,
      lastSeen: r.last_seen,
    };
  });
}

/** CVSS v3 qualitative bands: critical and high are a high-priority alarm, medium a medium one, low a low one. */
export function priorityOf(cvss: number | undefined): Priority {
  if (cvss === undefined) return 'medium';
  return cvss >= 7 ? 'high' : cvss >= 4 ? 'medium' : 'low';
}

/** An advisory document is at most this large (the largest of CISA's medical advisories is under 100 KB). */
export const ADVISORY_MAX_BYTES = 1024 * 1024;

export class Advisories {
  constructor(
    private readonly db: Db,
    private readonly audit: AuditLog,
    private readonly alarms: Alarms,
    private readonly profiles: () => ReadonlyMap<string, DeviceProfile>,
  ) {}

  inventory(): InventoryEntry[] {
    return readInventory(this.db, this.profiles());
  }

  list(): StoredAdvisory[] {
    return (this.db.prepare('SELECT * FROM advisories ORDER BY imported DESC').all() as Array<Omit<StoredAdvisory, 'summary'> & { summary: string }>).map((a) => ({ ...a, summary: JSON.parse(a.summary) as unknown }));
  }

  async import(now: number, by: string, doc: unknown): Promise<ImportResult> {
    const r = await readAdvisory(doc);
    if (!r.ok) throw new AdvisoryError(`not a valid CSAF 2.0 advisory: ${r.errors.slice(0, 3).join('; ')}`, 400, r.errors);
    const a = r.advisory;
    const devices: InventoryDevice[] = this.inventory()
      .filter((e) => e.model !== null)
      .map((e) => ({ gateway: e.gateway, bed: e.bed, model: e.model!, firmware: e.deviceFirmware, product: this.profiles().get(e.model!)?.product }));
    const report = matchAdvisory(a.affected, devices);
    const notUnderstood = a.products.filter((p) => !p.range.ok).map((p) => ({ product: [p.vendor, p.name].filter(Boolean).join(' / '), versionText: p.versionText ?? null, reason: p.range.ok ? '' : p.range.reason }));
    const before = this.db.prepare('SELECT version FROM advisories WHERE id = ?').get(a.id) as { version: string } | undefined;
    // a newer revision (tracking version, "2" after "1", "1.1.0" after "1.0.0") replaces the stored one;
    // the same or an older one changes nothing and raises nothing again (its alarms were raised, maybe acknowledged)
    const stored = before === undefined || compareVersions(a.version, before.version) > 0;
    const bed = (f: Finding): BedFinding => ({ gateway: f.gateway, bed: f.bed, model: f.model, firmware: f.firmware, product: f.product.name, why: f.why });
    const affected: BedFinding[] = [];
    this.db.transaction(() => {
      if (stored) {
        const summary = { cves: a.cves, cvss: a.cvss ?? null, released: a.released ?? null, products: a.products.length, affected: report.affected.map(bed), review: report.review.map(bed), notUnderstood };
        this.db
          .prepare('INSERT INTO advisories (id, version, title, imported, imported_by, summary) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET version = excluded.version, title = excluded.title, imported = excluded.imported, imported_by = excluded.imported_by, summary = excluded.summary')
          .run(a.id, a.version, a.title, now, by, JSON.stringify(summary));
        this.audit.append(now, by, 'advisory-imported', `advisory/${a.id}`, { version: a.version, affected: report.affected.map((f) => f.gateway), review: report.review.map((f) => f.gateway) });
      }
      for (const f of stored ? report.affected : []) {
        const p = f.product;
        const cvss = p.cvss ?? a.cvss;
        const message = `Security advisory ${a.id}: ${p.name} firmware ${f.firmware ?? '(not reported)'} is affected (${f.why})${p.cves.length > 0 ? ` — ${p.cves.join(', ')}` : ''}${cvss === undefined ? '' : `, CVSS ${cvss.toFixed(1)}`}`;
        const alarm = this.alarms.raise(now, f.gateway, 'security', `advisory-${a.id.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`, priorityOf(cvss), message, {
          advisory: a.id,
          version: a.version,
          title: a.title,
          product: p.name,
          vendor: p.vendor ?? null,
          range: f.why,
          firmware: f.firmware,
          cves: p.cves,
          cvss: cvss ?? null,
          remediations: p.remediations.slice(0, 8).map((x) => ({ category: x.category, details: x.details.slice(0, 600), url: x.url ?? null })),
        });
        affected.push({ ...bed(f), alarm: alarm.id });
      }
    })();
    return {
      advisory: { id: a.id, version: a.version, title: a.title, cves: a.cves, cvss: a.cvss },
      stored,
      products: a.products.length,
      affectedProducts: a.affected.length,
      notUnderstood,
      affected: stored ? affected : report.affected.map(bed),
      review: report.review.map(bed),
    };
  }
}

export type { Advisory };
