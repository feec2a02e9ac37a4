/** Errors from the portal's API arrive as `{error: {name, message, suggestions?}}`; this is their shape here. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly suggestions: string[] = [],
  ) {
    super(message);
  }
}

/** GET a JSON answer from the portal's own API (same origin); errors become ApiError with the server's message. */
export async function fetchJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    // No custom headers: the request must match the page's <link rel=preload as=fetch> to reuse it.
    res = await fetch(url, { signal });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError('The portal could not be reached. Check your connection and try again.', 0);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    throw new ApiError(
      `Unexpected answer from ${new URL(url, 'http://x').pathname} (HTTP ${res.status})`,
      res.status,
    );
  }
  if (!res.ok) throw apiErrorOf(body, res.status);
  return body as T;
}

/** The ApiError an error answer's JSON body (the portal's error envelope) stands for. */
export function apiErrorOf(body: unknown, status: number): ApiError {
  const e = (body as { error?: { message?: unknown; suggestions?: unknown } } | null)?.error;
  const message = typeof e?.message === 'string' ? e.message : `HTTP ${status}`;
  const suggestions = Array.isArray(e?.suggestions)
    ? e.suggestions.filter((s): s is string => typeof s === 'string')
    : [];
  return new ApiError(message, status, suggestions);
}
