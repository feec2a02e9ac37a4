/**
 * The HTTP/1.1 server. Order, outermost first: tracing/metrics, the error filter, expiration, rate
 * limit, then your service (usually `router.serve()`). `/ping`, `/ready` and `/metrics` are answered
 * before all of that, so probes and scrapes are never rate limited.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  expiredError,
  Headers,
  newSpanId,
  newTraceId,
  parseDeadline,
  parseTraceparent,
  RequestContext,
  runInContext,
  safeTimeout,
} from './context.ts';
import { ErrorCode, RpcError, toRpcError } from './errors.ts';
import { codeLabel, defaultMetrics, type RpcMetrics } from './metrics.ts';
import { type RateLimitOptions, rateLimitFilter } from './ratelimit.ts';
import type { Request, Response, Service } from './service.ts';
import { envExporter, nowNs, type OtlpExporter, SpanKind } from './tracing.ts';

export interface ServerOptions {
  /** This service's name (default `$SERVICE_NAME`, else `service`). Used in metrics, spans and as caller. */
  name?: string;
  /** Port (default `$PORT`, else 0 = any free port). */
  port?: number;
  /** Host (default `$LISTEN_HOST`, else 127.0.0.1; use 0.0.0.0 in a pod). */
  host?: string;
  /** Per-caller token-bucket rate limit; off when absent. */
  rateLimit?: RateLimitOptions;
  /**
   * The callers this service knows by name (the `origin-service` header), e.g. its clients in the
   * catalogue. Default: `$RPC_KNOWN_CALLERS` (comma-separated) plus the names in `rateLimit.callers`.
   * Any other caller is `unknown` in metrics, spans' caller and rate limiting, so a caller that makes up
   * names can neither create unbounded metric series nor get a fresh rate-limit bucket per request.
   */
  knownCallers?: string[];
  /** Largest request body accepted (default 1 MiB). */
  maxBodyBytes?: number;
  /** Idle keep-alive timeout (default 65 s, above typical load balancers' 60 s). */
  keepAliveTimeoutMs?: number;
  /** Whole-request read timeout (default 30 s). */
  requestTimeoutMs?: number;
  metrics?: RpcMetrics;
  /** Span exporter (default: from OTEL_EXPORTER_OTLP_ENDPOINT, none if unset). */
  exporter?: OtlpExporter;
}

export interface RpcServer {
  readonly name: string;
  readonly port: number;
  /** `http://127.0.0.1:<port>` (or the bound host). */
  readonly url: string;
  /** Readiness reported on `/ready`; false while starting and once stopping. */
  ready: boolean;
  /** Requests being served now. */
  readonly inFlight: number;
  /** Graceful shutdown: stop accepting, drain in-flight requests, force-close after `graceMs` (default 10 s). */
  stop(graceMs?: number): Promise<void>;
}

/** The one label every caller outside `knownCallers` shares. */
export const UNKNOWN_CALLER = 'unknown';
const JSON_HEADERS = 'application/json; charset=utf-8';
const EMPTY = Buffer.alloc(0);

/** Starts serving `svc`. Resolves once listening. */
export async function listen(svc: Service, opts: ServerOptions = {}): Promise<RpcServer> {
  const name = opts.name ?? process.env.SERVICE_NAME ?? 'service';
  const metrics = opts.metrics ?? defaultMetrics();
  const state = new ServerState(
    name,
    withRateLimit(svc, opts.rateLimit, metrics, name),
    metrics,
    opts.exporter ?? envExporter(),
    knownCallersOf(opts),
  );
  const maxBody = opts.maxBodyBytes ?? 1 << 20;
  const server = http.createServer((hreq, hres) => {
    if (!answerProbe(hreq.url ?? '/', hres, server, state)) state.accept(hreq, hres, maxBody);
  });
  server.keepAliveTimeout = opts.keepAliveTimeoutMs ?? 65_000;
  server.headersTimeout = Math.min(60_000, server.keepAliveTimeout + 1000);
  server.requestTimeout = opts.requestTimeoutMs ?? 30_000;

  const host = opts.host ?? process.env.LISTEN_HOST ?? '127.0.0.1';
  const port = opts.port ?? (process.env.PORT ? Number(process.env.PORT) : 0);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return serverHandle(server, state, host);
}

/** `opts.knownCallers`, else `$RPC_KNOWN_CALLERS`; plus the callers named in the rate limit. */
function knownCallersOf(opts: ServerOptions): Set<string> {
  return new Set([
    ...(opts.knownCallers ??
      (process.env.RPC_KNOWN_CALLERS ?? '')
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean)),
    ...Object.keys(opts.rateLimit?.callers ?? {}),
  ]);
}

/** The service behind the per-caller rate limit (counted in metrics), or the service itself when off. */
function withRateLimit(
  svc: Service,
  rateLimit: RateLimitOptions | undefined,
  metrics: RpcMetrics,
  name: string,
): Service {
  if (!rateLimit) return svc;
  return svc.filter(
    rateLimitFilter({
      ...rateLimit,
      onReject: (caller) => {
        metrics.rateLimited.inc(name, caller);
        rateLimit.onReject?.(caller);
      },
    }),
  );
}

/** `/ping`, `/ready` and `/metrics`, answered before any filter; false for every other URL. */
function answerProbe(
  url: string,
  hres: http.ServerResponse,
  server: http.Server,
  state: ServerState,
): boolean {
  if (url === '/ping') sendRaw(hres, 200, 'pong');
  else if (url === '/ready')
    sendRaw(hres, server.listening && state.ready ? 200 : 503, state.ready ? 'ready' : 'not ready');
  else if (url === '/metrics')
    state.metrics.registry.metrics().then(
      (text) => sendRaw(hres, 200, text, state.metrics.registry.contentType),
      (err: unknown) => sendRaw(hres, 500, String(err)),
    );
  else return false;
  return true;
}

/** What the caller holds: readiness, requests in flight, and the graceful stop. */
function serverHandle(server: http.Server, state: ServerState, host: string): RpcServer {
  const addr = server.address() as AddressInfo;
  const unwatch = state.metrics.watchServer(state.name, () => state.inFlight);
  return {
    name: state.name,
    port: addr.port,
    url: `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${addr.port}`,
    get ready() {
      return state.ready;
    },
    set ready(value: boolean) {
      state.ready = value;
    },
    get inFlight() {
      return state.inFlight;
    },
    async stop(graceMs = 10_000) {
      state.ready = false;
      state.draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (state.inFlight > 0) {
        const idle = setInterval(() => server.closeIdleConnections(), 50);
        await new Promise<void>((resolve) => {
          state.drained = resolve;
          setTimeout(resolve, graceMs).unref();
        });
        clearInterval(idle);
      }
      server.closeAllConnections();
      await closed;
      unwatch();
      await state.exporter?.flush();
    },
  };
}

/** One server's state and what every exchange shares: counts, draining, metrics and spans. */
class ServerState {
  inFlight = 0;
  ready = true;
  draining = false;
  drained: (() => void) | undefined;
  constructor(
    readonly name: string,
    readonly inner: Service,
    readonly metrics: RpcMetrics,
    readonly exporter: OtlpExporter | undefined,
    readonly knownCallers: ReadonlySet<string>,
  ) {}

  /** A request for the service: its context from the headers, then its body, then the service. */
  accept(hreq: http.IncomingMessage, hres: http.ServerResponse, maxBody: number): void {
    this.inFlight++;
    const url = hreq.url ?? '/';
    const h = hreq.headers;
    const rawTp = h.traceparent;
    const tp = parseTraceparent(typeof rawTp === 'string' ? rawTp : undefined);
    const caller = h[Headers.caller];
    const rid = h[Headers.requestId];
    const traceId = tp ? tp.traceId : newTraceId();
    const ctx = new RequestContext({
      service: this.name,
      caller:
        typeof caller === 'string' ? (this.knownCallers.has(caller) ? caller : UNKNOWN_CALLER) : undefined,
      // Without an inbound request id, the trace id is the request id (one id to grep for).
      requestId: typeof rid === 'string' && rid !== '' ? rid : traceId,
      traceId,
      sampled: tp ? tp.sampled : true,
      spanId: newSpanId(),
      deadline: parseDeadline(h[Headers.deadline]),
    });
    const q = url.indexOf('?');
    const req: Request = {
      method: hreq.method ?? 'GET',
      path: q === -1 ? url : url.slice(0, q),
      query: q === -1 ? '' : url.slice(q + 1),
      headers: h,
      body: undefined,
      params: {},
      route: undefined,
      context: ctx,
    };
    const x = new Exchange(this, req, ctx, hres, tp?.parentId);
    const socket = hreq.socket as CurrentExchange;
    socket[CURRENT] = x;
    if (!socket[WATCHED]) {
      // One listener per connection, not per request: a disconnect abandons the request in flight.
      socket[WATCHED] = true;
      socket.once('close', () => socket[CURRENT]?.abandon());
    }
    readBody(hreq, maxBody, x);
  }

  /** A request left (answered or abandoned); the last one out while draining lets stop() go on. */
  left(): void {
    this.inFlight--;
    if (this.draining && this.inFlight === 0) this.drained?.();
  }

  /** Metrics for every answer; a span when sampled and an exporter is set. */
  observe(x: Exchange, res: Response, err: RpcError | undefined): void {
    const { name, metrics, exporter } = this;
    const code = codeLabel(err?.code);
    const endpoint = x.req.route ?? 'unmatched';
    const caller = x.ctx.caller ?? 'unknown';
    metrics.serverRequests.inc(name, caller, endpoint, code);
    if (err) metrics.serverFailures.inc(name, caller, endpoint, code);
    const ms = performance.now() - x.start;
    metrics.serverLatency.observe(ms / 1000, name, endpoint);
    if (exporter && x.ctx.sampled) {
      const durNs = BigInt(Math.round(ms * 1e6));
      const endNs = nowNs();
      exporter.export(name, {
        traceId: x.ctx.traceId,
        spanId: x.ctx.spanId,
        parentSpanId: x.parentSpanId,
        name: `${x.req.method} ${x.req.route ?? x.req.path}`,
        kind: SpanKind.Server,
        startNs: endNs - durNs,
        endNs,
        attributes: {
          'http.request.method': x.req.method,
          'http.route': x.req.route ?? x.req.path,
          'http.response.status_code': res.status,
          'rpc.system': 'bank-rpc',
          ...(x.ctx.caller ? { 'client.service': x.ctx.caller } : {}),
          'bank.request_id': x.ctx.requestId,
        },
        error: res.status >= 500,
        message: err?.message,
      });
    }
  }
}

/** One request/response. A class rather than closures: fewer allocations per request. */
class Exchange {
  done = false;
  timer: NodeJS.Timeout | undefined;
  readonly start = performance.now();
  constructor(
    readonly server: ServerState,
    readonly req: Request,
    readonly ctx: RequestContext,
    readonly hres: http.ServerResponse,
    readonly parentSpanId: string | undefined,
  ) {}

  finish(res: Response): void {
    if (this.done) return;
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    const sock = this.hres.socket as CurrentExchange | null;
    if (sock && sock[CURRENT] === this) sock[CURRENT] = undefined;
    const bodyErr = writeResponse(this.hres, res, this.ctx.requestId, this.server.draining);
    // The handler has returned: anything it left running downstream is cancelled.
    this.ctx.cancel();
    this.server.left();
    this.server.observe(this, res, res.error ?? bodyErr);
  }

  fail(err: unknown): void {
    this.finish(errorResponse(toRpcError(err)));
  }

  /** The caller went away before we answered: stop the work it asked for. */
  abandon(): void {
    if (this.done) return;
    this.done = true;
    if (this.timer) clearTimeout(this.timer);
    this.ctx.cancel(new RpcError(`${ErrorCode.InternalService}.cancelled`, 'Caller disconnected'));
    this.server.left();
  }

  onBody(err: RpcError | undefined, buf: Buffer): void {
    if (err) {
      this.finish(errorResponse(err));
      return;
    }
    if (buf.length > 0) {
      try {
        this.req.body = JSON.parse(buf.toString('utf8'));
      } catch {
        this.finish(
          errorResponse(new RpcError(`${ErrorCode.BadRequest}.invalid_json`, 'Body is not valid JSON')),
        );
        return;
      }
    }
    const d = this.ctx.deadline;
    if (d !== undefined) {
      const left = d - Date.now();
      if (left <= 0) {
        this.finish(errorResponse(expiredError()));
        return;
      }
      this.timer = safeTimeout(() => {
        this.ctx.cancel(expiredError());
        this.finish(
          errorResponse(
            new RpcError(ErrorCode.Timeout, 'Deadline passed while serving', { retryable: false }),
          ),
        );
      }, left);
    }
    let p: Promise<Response>;
    try {
      p = runInContext(this.ctx, this.server.inner, this.req);
    } catch (e) {
      this.fail(e);
      return;
    }
    p.then(
      (r) => this.finish(r),
      (e: unknown) => this.fail(e),
    );
  }
}

const CURRENT = Symbol('rpc.exchange');
const WATCHED = Symbol('rpc.watched');
type CurrentExchange = import('node:net').Socket & {
  [CURRENT]?: { abandon(): void } | undefined;
  [WATCHED]?: boolean;
};

function errorResponse(err: RpcError): Response {
  return { status: err.status, error: err };
}

function readBody(
  req: http.IncomingMessage,
  max: number,
  x: { onBody(err: RpcError | undefined, buf: Buffer): void },
) {
  const len = req.headers['content-length'];
  if (len === '0' || (len === undefined && req.headers['transfer-encoding'] === undefined)) {
    // No body; still drain so keep-alive works.
    req.resume();
    x.onBody(undefined, EMPTY);
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let failed = false;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > max && !failed) {
      failed = true;
      x.onBody(new RpcError(`${ErrorCode.BadRequest}.body_too_large`, `Body over ${max} bytes`), EMPTY);
    }
    if (!failed) chunks.push(c);
  });
  req.on('end', () => {
    if (!failed) x.onBody(undefined, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
  });
  req.on('error', () => {
    if (!failed) {
      failed = true;
      x.onBody(new RpcError(`${ErrorCode.BadRequest}.aborted`, 'Request body aborted'), EMPTY);
    }
  });
}

function sendRaw(res: http.ServerResponse, status: number, text: string, type = 'text/plain; charset=utf-8') {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Writes the response; returns an error if the body could not be encoded (then a 500 was sent). */
function writeResponse(
  res: http.ServerResponse,
  r: Response,
  requestId: string,
  closing: boolean,
): RpcError | undefined {
  if (res.headersSent || res.destroyed) return undefined;
  let payload: string | Buffer;
  let type = JSON_HEADERS;
  let status = r.status;
  let encodeErr: RpcError | undefined;
  const headers: Record<string, string | number> = r.headers ? { ...r.headers } : {};
  if (r.error) {
    headers[Headers.terror] = '1';
    payload = JSON.stringify(r.error.toWire());
  } else if (r.body === undefined) {
    payload = EMPTY;
  } else if (Buffer.isBuffer(r.body) || r.body instanceof Uint8Array) {
    payload = Buffer.from(r.body);
    type = 'application/octet-stream';
  } else {
    try {
      payload = JSON.stringify(r.body);
    } catch (e) {
      encodeErr = new RpcError(
        `${ErrorCode.InternalService}.bad_response`,
        `Cannot encode response: ${String(e)}`,
      );
      status = 500;
      headers[Headers.terror] = '1';
      payload = JSON.stringify(encodeErr.toWire());
    }
  }
  headers['content-type'] ??= type;
  headers['content-length'] = Buffer.byteLength(payload);
  headers[Headers.requestId] = requestId;
  if (closing) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(payload);
  return encodeErr;
}
