/** The station's frame: sign-in, the live ward, navigation, the banners and the page router. */
import { createContext } from 'preact';
import { useContext, useEffect, useMemo, useState } from 'preact/hooks';
import { api } from './api.js';
import { Live, type Ward } from './live.js';
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

export interface Session {
  readonly user: User;
  readonly live: Live;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (s === null) throw new Error('no session');
  return s;
}

/** The ward, re-read whenever it changes as a whole (at most once per frame): beds, presence, alarms, commands, notices, the link; not every bed's new values (useGatewayChanges). */
export function useWard(): Ward {
  const { live } = useSession();
  const [, setVersion] = useState(0);
  useEffect(() => live.subscribe(() => setVersion(live.ward.version)), [live]);
  return live.ward;
}

/** Re-renders when one gateway's own state or values change (its tile, its bed page). */
export function useGatewayChanges(id: string): void {
  const { live } = useSession();
  const [, setVersion] = useState(0);
  useEffect(() => live.subscribeGateway(id, () => setVersion(live.ward.version)), [live, id]);
}

/** The time now, moving every `everyMs` (ages and "buffering N min" texts). */
export function useNow(everyMs = 5000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

export function navigate(path: string): void {
  history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}

/** A link that moves within the app without reloading it. */
export function Link(props: { href: string; class?: string; children: preact.ComponentChildren; 'aria-current'?: 'page' | undefined }) {
  return (
    <a
      href={props.href}
      class={props.class}
      aria-current={props['aria-current']}
      onClick={(e) => {
        if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(props.href);
      }}
    >
      {props.children}
    </a>
  );
}

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
