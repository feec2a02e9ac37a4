import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { GraphQueryError, UnknownRefError } from '@bank/graph/errors';
import { databaseIdentity } from '../server/locations.ts';

/**
 * How long a running portal has to say it is there. Nobody listening is refused at once; this bounds a
 * portal that listens but hangs (longer for the one PORTAL_URL names: the person chose it).
 */
const PROBE_TIMEOUT_MS = { local: 1000, chosen: 3000 };
/** How long a question to a portal that answered the probe may take. */
const ASK_TIMEOUT_MS = 10_000;

/**
 * The running portal to ask, if one is reachable: `PORTAL_URL` when set (asked whatever database it serves:
 * the person chose it), else the local one (`http://127.0.0.1:$PORT`, 7007), asked only when its /healthz
 * says it serves this command's own database, so a portal started on another catalogue never answers.
 */
export async function reachablePortal(
  dbUrl: string,
  env: NodeJS.ProcessEnv = process.env,
  warn: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<string | undefined> {
  const chosen = env.PORTAL_URL?.trim();
  if (chosen === 'none' || chosen === 'off') return undefined;
  const base = (chosen || `http://127.0.0.1:${env.PORT || 7007}`).replace(/\/+$/, '');
  let health: { service?: string; database?: string };
  try {
    const res = await getJson(
      new URL(`${base}/healthz`),
      chosen ? PROBE_TIMEOUT_MS.chosen : PROBE_TIMEOUT_MS.local,
    );
    if (res.status !== 200) throw new Error(`/healthz answered ${res.status}`);
    health = (res.body ?? {}) as typeof health;
  } catch (err) {
    if (chosen)
      warn(`portal: ${base} did not answer (${(err as Error).message}); answering from the local catalogue`);
    return undefined;
  }
  if (health.service !== 'portal') {
    if (chosen) warn(`portal: ${base} is not a portal; answering from the local catalogue`);
    return undefined;
  }
  if (!chosen && health.database !== databaseIdentity(dbUrl)) return undefined;
  return base;
}

/**
 * GET `path` with `params` from the portal at `base`: its JSON, or its error as the error the graph
 * would have thrown here (unknown name with suggestions: exit 1; bad option: exit 2).
 */
export async function askPortal(
  base: string,
  path: string,
  params: Record<string, string | undefined>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<unknown> {
  const url = new URL(`${base}${path}`);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  // Beyond loopback a portal asks for credentials: the same bearer token CI uses.
  const token = env.PORTAL_TOKEN?.trim();
  const res = await getJson(url, ASK_TIMEOUT_MS, token ? { authorization: `Bearer ${token}` } : {});
  const body = res.body as
    | { error?: { name?: string; message?: string; ref?: string; suggestions?: string[] } }
    | undefined;
  if (res.status >= 200 && res.status < 300) return body;
  const e = body?.error;
  const message = e?.message ?? `${url.pathname} answered ${res.status}`;
  if (res.status === 404 && Array.isArray(e?.suggestions))
    throw new UnknownRefError(message, e.ref ?? '', e.suggestions);
  if (res.status === 400) throw new GraphQueryError(message);
  throw new Error(`${message} (from the portal at ${base})`);
}

/**
 * GET a JSON document (body undefined when it is not JSON), within `timeoutMs` in all. node:http rather than
 * the global fetch: fetch's first use loads undici, ~130 ms that a command answering in 200 ms would show.
 */
function getJson(
  url: URL,
  timeoutMs: number,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { method: 'GET', headers: { accept: 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', fail);
      res.on('end', () => {
        clearTimeout(timer);
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    function fail(err: Error) {
      clearTimeout(timer);
      reject(err);
    }
    req.on('error', fail);
    req.end();
  });
}
