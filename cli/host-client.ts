/** The `vigil` tools that act through a running host: sign in as a named user (password from VIGIL_PASSWORD, never the command line). */
import { UsageError } from './command.js';

export async function signInToHost(base: string, user: string): Promise<string> {
  const password = process.env.VIGIL_PASSWORD;
  if (password === undefined || password === '') throw new UsageError(`set VIGIL_PASSWORD to ${user}'s password (it is not taken on the command line, where others could read it)`);
  let r: Response;
  try {
    r = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user, password }) });
  } catch (e) {
    throw new UsageError(`cannot reach the host at ${base}: ${(e as Error).message}`);
  }
  const body = (await r.json().catch(() => ({}))) as { token?: string; error?: string };
  if (!r.ok || body.token === undefined) throw new UsageError(`sign-in as ${user} refused: ${body.error ?? r.status}`);
  return body.token;
}

/** A JSON request to the host as the signed-in user: its status and body. */
export async function hostRequest(base: string, token: string, method: string, path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(`${base}${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  return { status: r.status, json: (await r.json().catch(() => ({}))) as Record<string, unknown> };
}
