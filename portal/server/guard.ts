import { createHash } from 'node:crypto';
import type http from 'node:http';
import { errorEnvelope, PortalError, refuseAfterPause } from '@bank/plugin-kit';
import { TokenBuckets } from '@bank/rpc/ratelimit';

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

/** 429: this caller is over a per-caller limit; `Retry-After` says when to come back. */
class TooManyRequestsError extends PortalError {
  override readonly status = 429;
  override readonly name = 'TooManyRequestsError';
}

/** Per-caller limits (defaults generous for people and CI, tight enough to stop a flood or a guessing run). */
export interface CallerLimits {
  /** Sign-in attempts per minute per client address (default 10). */
  signInPerMinute: number;
  /** Writes (any method but GET/HEAD/OPTIONS) per second per caller (default 20), with a burst (default 100). */
  writesPerSecond: number;
  writeBurst: number;
  /** Event streams (text/event-stream) open at once per caller (default 10). */
  streamsPerCaller: number;
  /**
   * OTLP trace batches (`POST /v1/traces`) per second per caller (default 500, bursts of 1,000), counted
   * apart from other writes: one collector token forwards the spans of hundreds of services, and each batch
   * is bounded by the receiver's body limit.
   */
  traceBatchesPerSecond: number;
  traceBatchBurst: number;
}
export const DEFAULT_LIMITS: CallerLimits = {
  signInPerMinute: 10,
  writesPerSecond: 20,
  writeBurst: 100,
  streamsPerCaller: 10,
  traceBatchesPerSecond: 500,
  traceBatchBurst: 1000,
};

/** The OTLP/HTTP receiver's path (plugins/traffic), limited by its own bucket. */
const TRACES_PATH = '/v1/traces';

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
  limits?: Partial<CallerLimits>;
}

/**
 * Who is asking, for per-caller limits: the credential when there is one (a bearer token or the session
 * cookie, hashed so no secret is kept), else the client address. Keys are bounded: buckets idle for a
 * minute are forgotten.
 */
function callerKey(req: http.IncomingMessage): string {
  const auth = req.headers.authorization;
  const session = /(?:^|;\s*)portal_session=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
  const credential = auth ?? session;
  if (credential) return `c:${createHash('sha256').update(credential).digest('base64url').slice(0, 22)}`;
  return `a:${req.socket.remoteAddress ?? 'unknown'}`;
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
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const signIns = new TokenBuckets({
    ratePerSec: limits.signInPerMinute / 60,
    burst: limits.signInPerMinute,
  });
  const writes = new TokenBuckets({ ratePerSec: limits.writesPerSecond, burst: limits.writeBurst });
  const traceBatches = new TokenBuckets({
    ratePerSec: limits.traceBatchesPerSecond,
    burst: limits.traceBatchBurst,
  });
  const openStreams = new Map<string, number>();
  const served = () =>
    opts.baseUrl ? `${opts.baseUrl.origin} (or loopback)` : `http://127.0.0.1:${opts.port()} (loopback only)`;

  const hsts = opts.baseUrl?.protocol === 'https:';
  return function guard(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const url = req.url ?? '/';
    const pathOnly = url.split('?')[0];
    securityHeaders(res, pathOnly, hsts);
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
    if (SAFE_METHODS.has(method)) {
      if (!(req.headers.accept ?? '').includes('text/event-stream')) return false;
      const key = callerKey(req);
      const open = openStreams.get(key) ?? 0;
      if (open >= limits.streamsPerCaller) {
        reject(
          req,
          res,
          new TooManyRequestsError(
            `${open} event streams are already open for this caller; at most ${limits.streamsPerCaller} at once: close one first`,
            { limit: limits.streamsPerCaller },
          ),
          5,
        );
        return true;
      }
      openStreams.set(key, open + 1);
      res.once('close', () => {
        const n = (openStreams.get(key) ?? 1) - 1;
        if (n <= 0) openStreams.delete(key);
        else openStreams.set(key, n);
      });
      return false;
    }
    const signIn = pathOnly === '/api/auth/sign-in';
    const traces = pathOnly === TRACES_PATH;
    const waitMs = signIn
      ? signIns.take(`a:${req.socket.remoteAddress ?? 'unknown'}`, '')
      : (traces ? traceBatches : writes).take(callerKey(req), '');
    if (waitMs > 0) {
      const seconds = Math.max(1, Math.ceil(waitMs / 1000));
      reject(
        req,
        res,
        new TooManyRequestsError(
          signIn
            ? `Too many sign-in attempts from this address (at most ${limits.signInPerMinute} a minute); try again in ${seconds} s`
            : traces
              ? `Too many trace batches from this caller (at most ${limits.traceBatchesPerSecond} a second, bursts of ${limits.traceBatchBurst}); send larger batches or try again in ${seconds} s`
              : `Too many writes from this caller (at most ${limits.writesPerSecond} a second, bursts of ${limits.writeBurst}); try again in ${seconds} s`,
          {
            limit: signIn
              ? limits.signInPerMinute
              : traces
                ? limits.traceBatchesPerSecond
                : limits.writesPerSecond,
          },
        ),
        seconds,
      );
      return true;
    }
    if (req.headers.authorization) return false;
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
    // A signed webhook (GitHub may post form-encoded) carries a header no cross-site form can send.
    const signed = req.headers['x-hub-signature-256'] !== undefined;
    if (
      hasBody &&
      !signed &&
      type !== 'application/json' &&
      !/^application\/[a-z0-9.+-]+\+json$/.test(type)
    ) {
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

/**
 * On every answer, pages and API alike. Pages: scripts, styles and data only from the portal itself;
 * `'unsafe-inline'` for scripts and styles because Next.js inlines its hydration data and the theme script
 * (nonces would need every page rendered per request). API answers are data: nothing in them may run or
 * be framed. Never framed by anyone (clickjacking), no MIME sniffing, no referrer to other sites.
 */
const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');
const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export function securityHeaders(res: http.ServerResponse, pathname: string, hsts: boolean): void {
  const api = pathname.startsWith('/api/') || pathname.startsWith('/v1/');
  res.setHeader('content-security-policy', api ? API_CSP : PAGE_CSP);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('referrer-policy', 'same-origin');
  res.setHeader('cross-origin-opener-policy', 'same-origin');
  res.setHeader('cross-origin-resource-policy', 'same-origin');
  res.setHeader('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=()');
  if (hsts) res.setHeader('strict-transport-security', 'max-age=31536000');
}

function reject(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  err: PortalError,
  retryAfterSeconds?: number,
): void {
  const env = errorEnvelope(err, req.method ?? 'GET', (req.url ?? '/').split('?')[0]);
  const body = JSON.stringify(env);
  // A body still arriving waits for its answer, unread (a flood of refused bodies is slowed to one per pause).
  refuseAfterPause(req, () => send(req, res, err, body, retryAfterSeconds));
}

function send(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  err: PortalError,
  body: string,
  retryAfterSeconds?: number,
): void {
  // We will not read the body: close the connection after answering rather than drain an unknown amount.
  res.writeHead(err.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
    ...(retryAfterSeconds ? { 'retry-after': String(retryAfterSeconds) } : {}),
  });
  res.end(body);
  res.once('finish', () => {
    if (!req.complete) req.socket.destroy();
  });
}
