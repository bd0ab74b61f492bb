/**
 * Degraded mode as the nurse sees it: a banner whenever this station has lost the host, the host has
 * lost gateways or its database, or the ward is in a declared drill or outage; each says what still
 * works at the bedside and what does not.
 */
import { api } from '../api.js';
import { useNow, useSession, useWard } from '../session.js';
import { bedName, clockTime, duration } from '../format.js';

const MAY_END = ['charge-nurse', 'admin', 'biomed'];

export function Banners() {
  const ward = useWard();
  const { user } = useSession();
  const now = useNow(5000);
  const offline = [...ward.gateways.values()].filter((g) => g.presence === 'offline' && g.device !== null);
  const banners = [];
  if (ward.link !== 'live') {
    banners.push(
      <div class="banner banner-lost" role="alert" data-banner="link">
        <strong>{ward.link === 'connecting' ? 'Connecting to the Vigil host…' : `Connection to the Vigil host lost at ${clockTime(ward.linkSince, true)} — reconnecting.`}</strong>{' '}
        Values on this screen are <strong>not live</strong>. The bedside devices keep running on their last verified settings and the gateways keep recording.
      </div>,
    );
  }
  for (const n of ward.notices.values()) {
    banners.push(
      <div class={`banner banner-${n.kind}`} role="status" data-banner={n.kind}>
        <strong>{n.kind === 'drill' ? 'DRILL' : n.kind === 'outage' ? 'OUTAGE' : 'MAINTENANCE'}:</strong> {n.message}{' '}
        <span class="muted">
          (declared by {n.started_by} at {clockTime(n.started)})
        </span>
        {MAY_END.includes(user.role) ? (
          <button type="button" class="quiet" onClick={() => void api(`/api/notices/${n.id}/end`, { method: 'POST' })}>
            End {n.kind}
          </button>
        ) : null}
      </div>,
    );
  }
  if (!ward.storageOk) {
    banners.push(
      <div class="banner banner-lost" role="alert" data-banner="storage">
        <strong>The host's database is failing.</strong> Live values still show; history and commands may not be saved. Gateways keep everything until it recovers.
      </div>,
    );
  }
  if (offline.length > 0 && ward.link === 'live') {
    const oldest = Math.min(...offline.map((g) => g.lastSeen ?? now));
    banners.push(
      <div class="banner banner-degraded" role="status" data-banner="gateways">
        <strong>
          {offline.length} {offline.length === 1 ? 'bed is' : 'beds are'} not reaching the station
        </strong>{' '}
        ({offline.slice(0, 8).map((g) => bedName(g, g.id)).join(', ')}
        {offline.length > 8 ? `, and ${offline.length - 8} more` : ''}; longest {duration(now - oldest)}). At those beds the device runs on its last verified settings and the
        gateway keeps recording; remote setting changes are refused until they are back.
      </div>,
    );
  }
  return banners.length === 0 ? null : <div class="banners no-print">{banners}</div>;
}
