/**
 * Ward notices: a drill or an outage the charge nurse declares (or the simulator's drill), shown as a
 * banner at every nursing station until someone ends it. Stored, audited and streamed like alarms, so a
 * station that connects later, or a host that restarts, still shows it.
 */
import type { AuditLog } from './audit.js';
import type { Db } from './store/db.js';

/** A ward-wide notice: a drill or a declared outage, shown as a banner at every station until ended. */
export interface Notice {
  readonly id: number;
  readonly kind: 'drill' | 'outage' | 'maintenance';
  readonly message: string;
  readonly started: number;
  readonly started_by: string;
  readonly ended: number | null;
  readonly ended_by: string | null;
}

export const NOTICE_KINDS = ['drill', 'outage', 'maintenance'] as const;

export class NoticeError extends Error {
  override readonly name = 'NoticeError';
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

export class Notices {
  constructor(private readonly db: Db, private readonly audit: AuditLog, private readonly emit: (m: { type: 'notice'; notice: Notice }) => void) {}

  /** The notices in force (active), or the last 100 of every kind. */
  list(active = true): Notice[] {
    return this.db.prepare(`SELECT * FROM notices ${active ? 'WHERE ended IS NULL' : ''} ORDER BY id DESC LIMIT 100`).all() as Notice[];
  }

  get(id: number): Notice {
    const n = this.db.prepare('SELECT * FROM notices WHERE id = ?').get(id) as Notice | undefined;
    if (n === undefined) throw new NoticeError(`no notice ${id}`, 404);
    return n;
  }

  start(now: number, by: string, kind: unknown, message: unknown): Notice {
    if (typeof kind !== 'string' || !(NOTICE_KINDS as readonly string[]).includes(kind)) throw new NoticeError(`"kind" must be one of ${NOTICE_KINDS.join(', ')}`, 400);
    if (typeof message !== 'string' || message.trim().length === 0 || message.length > 200) throw new NoticeError('"message" is required: 1 to 200 characters', 400);
    const id = Number(this.db.prepare('INSERT INTO notices (kind, message, started, started_by) VALUES (?, ?, ?, ?)').run(kind, message.trim(), now, by).lastInsertRowid);
    this.audit.append(now, by, 'notice-started', `notice/${id}`, { kind, message: message.trim() });
    const n = this.get(id);
    this.emit({ type: 'notice', notice: n });
    return n;
  }

  end(now: number, by: string, id: number): Notice {
    const n0 = this.get(id);
    if (n0.ended !== null) throw new NoticeError(`notice ${id} already ended`, 409);
    this.db.prepare('UPDATE notices SET ended = ?, ended_by = ? WHERE id = ?').run(now, by, id);
    this.audit.append(now, by, 'notice-ended', `notice/${id}`, { kind: n0.kind });
    const n = this.get(id);
    this.emit({ type: 'notice', notice: n });
    return n;
  }
}
