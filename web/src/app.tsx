/** The station's frame: sign-in, the live ward, navigation, the banners and the page router. */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api } from './api.js';
import { Live } from './live.js';
import { Link, SessionContext, useSession, useWard } from './session.js';
import type { User } from './types.js';
import { AlarmsPage } from './views/alarms.js';
import { BedPage } from './views/bed.js';
import { ConsolePage } from './views/console.js';
import { DowntimePage } from './views/downtime.js';
import { FleetPage } from './views/fleet.js';
import { Login } from './views/login.js';
import { SecurityPage } from './views/security.js';
import { WardPage } from './views/ward.js';
import { Banners } from './views/banners.js';

function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const on = () => setPath(location.pathname);
    addEventListener('popstate', on);
    return () => removeEventListener('popstate', on);
  }, []);
  return path;
}

const PAGES: ReadonlyArray<{ href: string; label: string }> = [
  { href: '/', label: 'Ward' },
  { href: '/alarms', label: 'Alarms' },
  { href: '/console', label: 'Commands' },
  { href: '/fleet', label: 'Fleet' },
  { href: '/security', label: 'Security' },
  { href: '/downtime', label: 'Downtime sheet' },
];

function Nav(props: { path: string; onSignOut: () => void }) {
  const { user } = useSession();
  const ward = useWard();
  const active = [...ward.alarms.values()].filter((a) => a.acked_by === null).length;
  return (
    <header class="top no-print">
      <div class="brand">
        Vigil <span class="site">{ward.site}</span>
      </div>
      <nav aria-label="Pages">
        {PAGES.map((p) => {
          const current = p.href === '/' ? props.path === '/' || props.path.startsWith('/bed/') : props.path.startsWith(p.href);
          return (
            <Link href={p.href} class="nav-link" aria-current={current ? 'page' : undefined}>
              {p.label}
              {p.href === '/alarms' && active > 0 ? <span class="count" aria-label={`${active} unacknowledged`}>{active}</span> : null}
            </Link>
          );
        })}
      </nav>
      <div class="who">
        <span>
          {user.display} · {user.role}
        </span>
        <button type="button" class="quiet" onClick={props.onSignOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}

function Page(props: { path: string }) {
  const p = props.path;
  const bed = /^\/bed\/([^/]+)$/.exec(p);
  if (bed) return <BedPage id={decodeURIComponent(bed[1]!)} />;
  if (p === '/alarms') return <AlarmsPage />;
  if (p === '/console' || p.startsWith('/console/')) return <ConsolePage id={p.startsWith('/console/') ? decodeURIComponent(p.slice(9)) : undefined} />;
  if (p === '/fleet') return <FleetPage />;
  if (p === '/security') return <SecurityPage />;
  if (p === '/downtime' || p.startsWith('/downtime/')) return <DowntimePage id={p.startsWith('/downtime/') ? decodeURIComponent(p.slice(10)) : undefined} />;
  if (p === '/') return <WardPage />;
  return (
    <main id="main" class="page">
      <h1>Not found</h1>
      <p>
        There is no page at {p}. <Link href="/">Back to the ward</Link>
      </p>
    </main>
  );
}

export function App() {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const path = usePath();
  useEffect(() => {
    api<User>('/api/me').then(setUser, () => setUser(null));
  }, []);
  const live = useMemo(() => (user ? new Live(() => setUser(null)) : null), [user]);
  useEffect(() => {
    if (live === null) return;
    live.start();
    return () => live.stop();
  }, [live]);
  if (user === undefined) return <p class="boot">Loading Vigil…</p>;
  if (user === null || live === null) return <Login onSignedIn={setUser} />;
  const signOut = () => {
    void api('/api/logout', { method: 'POST' }).finally(() => setUser(null));
  };
  return (
    <SessionContext.Provider value={{ user, live }}>
      <a href="#main" class="skip">
        Skip to content
      </a>
      <Nav path={path} onSignOut={signOut} />
      <Banners />
      <Page path={path} />
    </SessionContext.Provider>
  );
}
