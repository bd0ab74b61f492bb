/** Calls to the host's API: JSON both ways, the session in its HttpOnly cookie, errors as thrown text. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const r = await fetch(path, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    credentials: 'same-origin',
  });
  const text = await r.text();
  let json: unknown = null;
  try {
    json = text === '' ? null : JSON.parse(text);
  } catch {
    throw new ApiError(r.status, `the host answered ${r.status} with something that is not JSON`);
  }
  if (!r.ok) throw new ApiError(r.status, (json as { error?: string } | null)?.error ?? `the host answered ${r.status}`);
  return json as T;
}
