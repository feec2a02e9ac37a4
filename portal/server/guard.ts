import type http from 'node:http';
import { errorEnvelope, PortalError } from '@bank/plugin-kit';

/** 421: the request named a host this server does not serve (DNS rebinding, a misrouted proxy). */
export class MisdirectedRequestError extends PortalError {
  override readonly status = 421;
}
/** 403 from the guard: a browser write from a page that is not ours. */
class CrossSiteWriteError extends PortalError {
  override readonly status = 403;
  override readonly name = 'NotAllowedError';
}
/** 415: a cookie write whose body is not JSON (a form or text/plain post needs no CORS preflight). */
class NotJsonError extends PortalError {
  override readonly status = 415;
  override readonly name = 'UnsupportedMediaTypeError';
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];
/** Probes come from the kubelet or a load balancer with the pod's address as Host; they reveal nothing. */
const PROBES = new Set(['/healthz', '/readyz']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * `PORTAL_BASE_URL` / `--base-url`: the public URL people reach the portal at. Only its origin counts
 * (the portal is served at the root), so a path, query or credentials in it are a mistake we name.
 */
export function parseBaseUrl(raw: string | undefined): URL | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new Error(
      `PORTAL_BASE_URL / --base-url "${raw}" is not a URL; expected e.g. https://portal.bank.example`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`PORTAL_BASE_URL / --base-url "${raw}" must be http:// or https://`);
  if (url.username || url.password || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash)
    throw new Error(
      `PORTAL_BASE_URL / --base-url "${raw}" must be an origin only (scheme, host, port), e.g. ${url.origin}`,
    );
  return url;
}

export interface GuardOptions {
  baseUrl?: URL;
  /** The port the server listens on (known after listen; a function so port 0 works). */
  port: () => number;
}

/**
 * The first thing every request meets, before routing, for the API and the UI alike:
 * - a `Host` that is neither the configured base URL nor a loopback name with our port is refused (421),
 *   which defeats DNS rebinding: a page on rebind.evil.example that resolves to us still sends its own
 *   name as Host;
 * - a browser write (no bearer token: the session cookie rides along on its own) must carry JSON and an
 *   `Origin` that is ours. JSON forces a CORS preflight we never grant, and `Origin` names the page that
 *   sent it; `Origin: null` (sandboxed frames, file:, some redirects) is never ours.
 * Bearer-token writes are exempt from the Origin rule: browsers never attach a bearer token by themselves.
 * Returns true when it answered the request.
 */
export function createRequestGuard(opts: GuardOptions) {
  const hosts = (): Set<string> => {
    const port = opts.port();
    const set = new Set<string>();
    for (const name of LOOPBACK_NAMES) {
      set.add(`${name}:${port}`);
      if (port === 80) set.add(name);
    }
    if (opts.baseUrl) set.add(opts.baseUrl.host.toLowerCase());
    return set;
  };
  const origins = (): Set<string> => {
    const port = opts.port();
    const set = new Set<string>(LOOPBACK_NAMES.map((n) => `http://${n}${port === 80 ? '' : `:${port}`}`));
    if (opts.baseUrl) set.add(opts.baseUrl.origin.toLowerCase());
    return set;
  };
  const served = () =>
    opts.baseUrl ? `${opts.baseUrl.origin} (or loopback)` : `http://127.0.0.1:${opts.port()} (loopback only)`;

  return function guard(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const url = req.url ?? '/';
    const pathOnly = url.split('?')[0];
    if (PROBES.has(pathOnly)) return false;
    const host = (req.headers.host ?? '').toLowerCase();
    if (!hosts().has(host)) {
      reject(
        req,
        res,
        new MisdirectedRequestError(
          `This portal is served at ${served()}; the Host "${host || '(none)'}" is not one of its names. ` +
            'If this is its public address, set PORTAL_BASE_URL (or --base-url) to it.',
        ),
      );
      return true;
    }
    const method = (req.method ?? 'GET').toUpperCase();
    if (SAFE_METHODS.has(method) || req.headers.authorization) return false;
    const origin = req.headers.origin;
    if (origin !== undefined && !origins().has(origin.toLowerCase())) {
      reject(
        req,
        res,
        new CrossSiteWriteError(
          origin === 'null'
            ? 'Writes from an opaque origin (Origin: null) are refused; use the portal’s own pages or a bearer token'
            : `Writes from ${origin} are refused: only the portal’s own pages (${served()}) may write with a session; machines send a bearer token`,
        ),
      );
      return true;
    }
    const hasBody =
      req.headers['transfer-encoding'] !== undefined ||
      (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (hasBody && type !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(type)) {
      reject(
        req,
        res,
        new NotJsonError(
          `Writes need "Content-Type: application/json"; got "${type || '(none)'}". A form or text/plain post is not accepted`,
        ),
      );
      return true;
    }
    return false;
  };
}

function reject(req: http.IncomingMessage, res: http.ServerResponse, err: PortalError): void {
  const env = errorEnvelope(err, req.method ?? 'GET', (req.url ?? '/').split('?')[0]);
  const body = JSON.stringify(env);
  // We will not read the body: close the connection after answering rather than drain an unknown amount.
  res.writeHead(err.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  res.end(body);
  res.once('finish', () => {
    if (!req.complete) req.socket.destroy();
  });
}
