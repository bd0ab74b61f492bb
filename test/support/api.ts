/**
 * Test clients for the host's two faces a person uses: its HTTP API (bearer tokens kept per user
 * name) and the `vigil` command run in this process with its printed lines captured.
 */
import { main } from '../../cli/main.js';

export interface Reply {
  status: number;
  json: any;
  text: string;
  headers: Headers;
}

export type Api = (user: string | undefined, method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<Reply>;

/** Calls `baseUrl()` (read at each call: the host may start after the client is made) as `user`, whose token is in `tokens`. */
export function apiClient(baseUrl: () => string, tokens: ReadonlyMap<string, string>): Api {
  return async (user, method, path, body, headers = {}) => {
    const h: Record<string, string> = { 'content-type': 'application/json', ...headers };
    if (user !== undefined) h.authorization = `Bearer ${tokens.get(user)}`;
    const res = await fetch(`${baseUrl()}${path}`, { method, headers: h, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text, headers: res.headers };
  };
}

/** Runs `vigil <args>` in this process; its exit code and what it printed with console.log. */
export async function runCli(args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (s: string) => lines.push(s);
  try {
    return { code: await main(args), out: lines.join('\n') };
  } finally {
    console.log = log;
  }
}
