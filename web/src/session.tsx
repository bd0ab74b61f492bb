/**
 * The signed-in station's shared pieces: the session (user and live ward), the hooks views re-render
 * with, in-app navigation, and the data hooks several views read (profiles, commands).
 */
import { createContext } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import type { Live, Ward } from './live.js';
import type { Command, Profile, User } from './types.js';

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

export function useProfiles(): Profile[] {
  const [profiles, setProfiles] = useState<Profile[]>([]);
  useEffect(() => {
    void api<Profile[]>('/api/profiles').then(setProfiles, () => undefined);
  }, []);
  return profiles;
}

export function useCommands(gateway: string | undefined): Command[] {
  const ward = useWard();
  const [loaded, setLoaded] = useState<Command[]>([]);
  useEffect(() => {
    void api<Command[]>(`/api/commands${gateway === undefined ? '' : `?gateway=${encodeURIComponent(gateway)}`}`).then(setLoaded, () => undefined);
  }, [gateway, ward.link]);
  const byId = new Map(loaded.map((c) => [c.id, c]));
  for (const c of ward.commands.values()) if (gateway === undefined || c.gateway === gateway) byId.set(c.id, c);
  return [...byId.values()].sort((a, b) => b.id - a.id);
}

