/**
 * Pages that read their first data on the server, so it is in the HTML at first paint instead of arriving
 * after the page's scripts have loaded and hydrated. The portal's server (portal/server/server.ts) runs the
 * API and the Next.js pages in one process and publishes the API's fetch here; a server component asks it
 * in process with the caller's own credentials (cookie, authorization), so the API's read rules apply as
 * over HTTP. Without the portal's server (`next dev`), or when the answer takes longer than `timeoutMs`
 * (the scorecards wait for their first scoring after a start), the page renders without the data and its
 * client component fetches it as before.
 */

type ApiFetch = (req: Request) => Response | Promise<Response>;

const KEY = Symbol.for('bank.portal.api-fetch');
// By listening port: tests run several portals in one process, each page must ask its own server's API.
const slot = globalThis as unknown as Record<symbol, Map<string, ApiFetch> | undefined>;
slot[KEY] ??= new Map();
const registry: Map<string, ApiFetch> = slot[KEY];

/** Called by the portal's server once it listens on `port`, with its API (a Hono app's `fetch`). */
export function publishApiForPages(port: number, fetch: ApiFetch): () => void {
  registry.set(String(port), fetch);
  return () => {
    if (registry.get(String(port)) === fetch) registry.delete(String(port));
  };
}

const portOf = (host: string | null): string | undefined => /:(\d+)$/.exec(host ?? '')?.[1];

/**
 * The API of the portal this request came to: by the port in its Host, or, when the Host names none (a
 * proxy in front, `PORTAL_BASE_URL=https://portal.bank.example`), the process's only portal.
 */
function apiFor(host: string | null): ApiFetch | undefined {
  const byPort = registry.get(portOf(host) ?? '');
  if (byPort || portOf(host) !== undefined || registry.size !== 1) return byPort;
  return registry.values().next().value;
}

/** The API's JSON answer to GET `path` for this caller, or undefined (no in-process API, not 200, too slow). */
export async function readApiOnServer<T>(
  path: string,
  caller: Pick<Headers, 'get'>,
  timeoutMs = 300,
): Promise<T | undefined> {
  const answer = await readApiAnswerOnServer(path, caller, timeoutMs);
  return answer && answer.status >= 200 && answer.status < 300 ? (answer.body as T) : undefined;
}

/**
 * The API's answer to GET `path` for this caller, whatever its status: `{status, body}` with the JSON body
 * (a 404's body holds the error envelope, its closest names among it), or undefined when there is no
 * in-process API, the body is not JSON, or no answer came within `timeoutMs`. A page that decides its own
 * status (the entity page's 404) needs to tell "not there" from "not known yet".
 */
export async function readApiAnswerOnServer(
  path: string,
  caller: Pick<Headers, 'get'>,
  timeoutMs = 300,
): Promise<{ status: number; body: unknown } | undefined> {
  const fetch = apiFor(caller.get('host'));
  if (!fetch) return undefined;
  const headers = new Headers();
  for (const name of ['cookie', 'authorization']) {
    const v = caller.get(name);
    if (v) headers.set(name, v);
  }
  const ctrl = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tooSlow = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => {
      ctrl.abort();
      resolve(undefined);
    }, timeoutMs);
  });
  try {
    const request = new Request(new URL(path, 'http://portal.internal'), { headers, signal: ctrl.signal });
    const answer = await Promise.race([Promise.resolve(fetch(request)), tooSlow]);
    if (!answer) return undefined;
    const body: unknown = await Promise.race([answer.json() as Promise<unknown>, tooSlow]);
    return body === undefined ? undefined : { status: answer.status, body };
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}
