/**
 * The client for one downstream service. Per call, outermost first: tracing/metrics, total timeout +
 * deadline, retry (budget, classifier, backoff) and requeue, balancer (P2C/peak-EWMA over discovery),
 * failure accrual per endpoint, attempt timeout, then the pooled transport. The context (trace, request
 * id, caller, deadline, cancellation) comes from the request being served, via AsyncLocalStorage.
 */
import type { EventEmitter } from 'node:events';
import {
  type Context,
  currentContext,
  formatDeadline,
  formatTraceparent,
  Headers,
  newSpanId,
  newTraceId,
  safeTimeout,
} from '../context.ts';
import { ErrorCode, RpcError } from '../errors.ts';
import { codeLabel, defaultMetrics, type RpcMetrics } from '../metrics.ts';
import { envExporter, nowNs, type OtlpExporter, SpanKind } from '../tracing.ts';
import type { AccrualOptions } from './accrual.ts';
import { type BackoffOptions, DecorrelatedJitter, sleep } from './backoff.ts';
import { type BalancerKind, pickP2C } from './balancer.ts';
import { RetryBudget, type RetryBudgetOptions } from './budget.ts';
import { type DiscoveryOptions, type Resolver, resolverFor } from './discovery.ts';
import { Endpoint, type PoolOptions } from './pool.ts';

export interface ClientOptions extends DiscoveryOptions {
  /** The calling service's name (default: the current context's service, `$SERVICE_NAME`, `unknown`). */
  caller?: string;
  /** A resolver to use instead of RPC_DISCOVERY / DNS. */
  resolver?: Resolver;
  /** `p2c` (least-loaded, default) or `ewma` (P2C over peak-EWMA latency). */
  balancer?: BalancerKind;
  /** Peak-EWMA decay time (default 10 s). */
  decayTimeMs?: number;
  /** The whole call, retries included (default 5 s). A shorter inbound deadline wins. */
  timeoutMs?: number;
  /** Each attempt (default: no limit beyond the total). */
  attemptTimeoutMs?: number;
  budget?: RetryBudgetOptions;
  backoff?: BackoffOptions;
  /** Retries per call at most (default 3), on top of the budget. */
  maxRetries?: number;
  /** Failure accrual per endpoint (default 5 failures, 5 s–300 s); `false` turns it off. */
  accrual?: AccrualOptions | false;
  pool?: PoolOptions;
  metrics?: RpcMetrics;
  /** Span exporter (default: from OTEL_EXPORTER_OTLP_ENDPOINT). */
  exporter?: OtlpExporter;
  random?: () => number;
}

export interface CallOptions {
  headers?: Record<string, string>;
  timeoutMs?: number;
  attemptTimeoutMs?: number;
  /** false: never retry this call (e.g. a non-idempotent write you cannot dedupe). */
  retry?: boolean;
  /** Cancels the call, on top of the context's signal. */
  signal?: AbortSignal;
}

/** What a successful call returns. */
export interface ClientResponse<T> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
}

interface AttemptResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** Why an attempt failed, beyond the error: decides requeue vs retry vs accrual. */
enum Failure {
  /** The request never reached the service (connection refused): re-send at once. */
  NotDelivered = 0,
  /** The endpoint misbehaved (5xx, reset, timeout): counts toward accrual, retry with backoff. */
  Endpoint = 1,
  /** The service answered with an application error (4xx, 429): no accrual. */
  Application = 2,
  /** The caller cancelled or the total deadline passed: stop, no budget. */
  Stopped = 3,
}

const NO_ENDPOINTS = () =>
  new RpcError(`${ErrorCode.InternalService}.no_endpoints`, 'No endpoints available', { retryable: false });

export class Client {
  readonly callee: string;
  private readonly opts: ClientOptions;
  private readonly resolver: Resolver;
  private nodes: Endpoint[] = [];
  private readonly byUrl = new Map<string, Endpoint>();
  readonly budget: RetryBudget;
  private readonly metrics: RpcMetrics;
  private readonly exporter: OtlpExporter | undefined;
  private readonly unsubscribe: () => void;
  private readonly unwatch: () => void;
  private readyPromise: Promise<void> | undefined;
  private closed = false;

  constructor(callee: string, opts: ClientOptions = {}) {
    this.callee = callee;
    this.opts = opts;
    this.resolver = opts.resolver ?? resolverFor(callee, opts);
    this.budget = new RetryBudget(opts.budget);
    this.metrics = opts.metrics ?? defaultMetrics();
    this.exporter = opts.exporter ?? envExporter();
    this.update(this.resolver.endpoints());
    this.unsubscribe = this.resolver.subscribe((urls) => this.update(urls));
    const self = this;
    this.unwatch = this.metrics.watchClient({
      get caller() {
        return self.callerName(undefined);
      },
      callee,
      dead: () => this.nodes.filter((n) => n.status === 'busy').length,
      size: () => this.nodes.length,
    });
  }

  /** The endpoints currently known, with their state (for diagnostics and tests). */
  endpoints(): ReadonlyArray<{ url: string; pending: number; state: string }> {
    return this.nodes.map((n) => ({ url: n.url, pending: n.pending, state: n.accrual?.state ?? 'alive' }));
  }

  private update(urls: readonly string[]): void {
    const next: Endpoint[] = [];
    const keep = new Set(urls);
    for (const url of urls) {
      let ep = this.byUrl.get(url);
      if (!ep) {
        ep = new Endpoint(
          url,
          this.opts.balancer ?? 'p2c',
          this.opts.pool ?? {},
          this.opts.accrual === false ? false : { random: this.opts.random, ...this.opts.accrual },
          this.opts.decayTimeMs,
        );
        this.byUrl.set(url, ep);
      }
      next.push(ep);
    }
    for (const [url, ep] of this.byUrl) {
      if (!keep.has(url)) {
        this.byUrl.delete(url);
        void ep.close();
      }
    }
    this.nodes = next;
  }

  private callerName(ctx: Context | undefined): string {
    return this.opts.caller ?? ctx?.service ?? process.env.SERVICE_NAME ?? 'unknown';
  }

  get<T = unknown>(path: string, opts?: CallOptions): Promise<T> {
    return this.call<T>('GET', path, undefined, opts);
  }
  post<T = unknown>(path: string, body?: unknown, opts?: CallOptions): Promise<T> {
    return this.call<T>('POST', path, body, opts);
  }
  put<T = unknown>(path: string, body?: unknown, opts?: CallOptions): Promise<T> {
    return this.call<T>('PUT', path, body, opts);
  }
  delete<T = unknown>(path: string, opts?: CallOptions): Promise<T> {
    return this.call<T>('DELETE', path, undefined, opts);
  }

  /** Calls the service and returns the decoded JSON body; throws an RpcError on failure. */
  async call<T = unknown>(method: string, path: string, body?: unknown, opts?: CallOptions): Promise<T> {
    return (await this.request<T>(method, path, body, opts)).body;
  }

  /** Like `call`, with the status and headers. */
  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    opts: CallOptions = {},
  ): Promise<ClientResponse<T>> {
    if (this.closed)
      throw new RpcError(`${ErrorCode.InternalService}.closed`, `Client for ${this.callee} is closed`);
    if (this.nodes.length === 0) {
      this.readyPromise ??= this.resolver.ready();
      await this.readyPromise;
    }
    const ctx = currentContext();
    const caller = this.callerName(ctx);
    const started = performance.now();
    const spanId = newSpanId();
    const traceId = ctx?.traceId ?? newTraceId();
    const sampled = ctx?.sampled ?? true;
    let status = 0;
    let err: RpcError | undefined;
    try {
      const res = await this.withRetries(method, path, body, opts, ctx, caller, traceId, spanId, sampled);
      status = res.status;
      return res as ClientResponse<T>;
    } catch (e) {
      err = e instanceof RpcError ? e : new RpcError(ErrorCode.InternalService, String(e));
      status = err.status;
      throw err;
    } finally {
      const ms = performance.now() - started;
      const code = codeLabel(err?.code);
      this.metrics.clientRequests.inc(caller, this.callee, code);
      if (err) this.metrics.clientFailures.inc(caller, this.callee, code);
      this.metrics.clientLatency.observe(ms / 1000, caller, this.callee);
      if (this.exporter && sampled) {
        const endNs = nowNs();
        this.exporter.export(caller, {
          traceId,
          spanId,
          parentSpanId: ctx?.spanId,
          name: `${method} ${path.split('?')[0]}`,
          kind: SpanKind.Client,
          startNs: endNs - BigInt(Math.round(ms * 1e6)),
          endNs,
          attributes: {
            'peer.service': this.callee,
            'http.request.method': method,
            'http.response.status_code': status,
            'url.path': path.split('?')[0],
            'rpc.system': 'bank-rpc',
          },
          error: err !== undefined,
          message: err?.message,
        });
      }
    }
  }

  private async withRetries(
    method: string,
    path: string,
    body: unknown,
    opts: CallOptions,
    ctx: Context | undefined,
    caller: string,
    traceId: string,
    spanId: string,
    sampled: boolean,
  ): Promise<ClientResponse<unknown>> {
    const now = Date.now();
    const total = opts.timeoutMs ?? this.opts.timeoutMs ?? 5_000;
    let deadline = now + total;
    if (ctx?.deadline !== undefined && ctx.deadline < deadline) deadline = ctx.deadline;
    const signals: AbortSignal[] = [];
    if (ctx) signals.push(ctx.signal);
    if (opts.signal) signals.push(opts.signal);
    const headers: Record<string, string> = {
      ...opts.headers,
      [Headers.traceparent]: formatTraceparent(traceId, spanId, sampled),
      [Headers.caller]: caller,
    };
    if (ctx) headers[Headers.requestId] = ctx.requestId;
    let payload: string | undefined;
    if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['content-type'] = 'application/json';
    }
    this.budget.deposit();
    let tried: Endpoint[] | undefined;
    let backoff: DecorrelatedJitter | undefined;
    let retries = 0;
    const maxRetries = opts.retry === false ? 0 : (this.opts.maxRetries ?? 3);
    const attemptLimit = opts.attemptTimeoutMs ?? this.opts.attemptTimeoutMs;
    for (;;) {
      for (const s of signals) if (s.aborted) throw asRpcError(s.reason);
      const left = deadline - Date.now();
      // Never start an attempt with less than 1 ms left.
      if (left < 1)
        throw new RpcError(ErrorCode.Timeout, `Deadline passed calling ${this.callee}`, { retryable: false });
      const ep = pickP2C(this.nodes, tried, this.opts.random);
      if (!ep) throw NO_ENDPOINTS();
      if (ep.status === 'busy') {
        throw new RpcError(
          `${ErrorCode.InternalService}.circuit_open`,
          `Every endpoint of ${this.callee} is marked dead`,
          { retryable: false, params: { service: this.callee } },
        );
      }
      headers[Headers.deadline] = formatDeadline(Date.now(), deadline);
      const attemptMs = attemptLimit !== undefined && attemptLimit < left ? attemptLimit : left;
      const outcome = await this.attempt(ep, method, path, headers, payload, attemptMs, deadline, signals);
      const code = outcome.error ? codeLabel(outcome.error.code) : 'ok';
      this.metrics.clientAttempts.inc(caller, this.callee, ep.url, code);
      if (!outcome.error) {
        return { status: outcome.res.status, headers: outcome.res.headers, body: decodeBody(outcome.res) };
      }
      const err = outcome.error;
      if (outcome.kind === Failure.Stopped) throw err;
      const retryable = err.retryable && err.marshalCount <= 1 && retries < maxRetries;
      if (!retryable) throw err;
      if (!this.budget.tryWithdraw()) {
        this.metrics.budgetExhausted.inc(caller, this.callee);
        throw err;
      }
      retries++;
      tried ??= [];
      tried.push(ep);
      if (outcome.kind === Failure.NotDelivered) {
        this.metrics.requeues.inc(caller, this.callee);
        continue;
      }
      this.metrics.retries.inc(caller, this.callee);
      backoff ??= new DecorrelatedJitter({ random: this.opts.random, ...this.opts.backoff });
      let wait = backoff.next();
      const retryAfter = err.params.retry_after_ms;
      if (retryAfter !== undefined) wait = Math.max(wait, Number(retryAfter));
      if (Date.now() + wait >= deadline) throw err;
      await sleep(
        wait,
        signals.length === 1 ? signals[0] : signals.length > 1 ? AbortSignal.any(signals) : undefined,
      ).catch((reason: unknown) => {
        throw asRpcError(reason);
      });
    }
  }

  private async attempt(
    ep: Endpoint,
    method: string,
    path: string,
    headers: Record<string, string>,
    payload: string | undefined,
    attemptMs: number,
    deadline: number,
    signals: AbortSignal[],
  ): Promise<{ error: undefined; res: AttemptResult } | { error: RpcError; kind: Failure; res?: undefined }> {
    // A minimal abort source undici accepts (EventEmitter-style): an AbortController per attempt
    // (EventTarget, listeners, a signal object) was a measurable share of a call's CPU.
    const abort = new AttemptAbort();
    let timedOut = false;
    const timer = safeTimeout(() => {
      timedOut = true;
      abort.abort();
    }, attemptMs);
    for (const s of signals) s.addEventListener('abort', abort);
    ep.accrual?.onRequest();
    ep.pending++;
    const t0 = performance.now();
    try {
      const res = await ep.pool.request({
        path,
        method,
        headers,
        body: payload,
        signal: abort as unknown as EventEmitter,
      });
      const text = await res.body.text();
      ep.ewma?.observe(performance.now() - t0);
      const result: AttemptResult = { status: res.statusCode, headers: res.headers, text };
      if (res.statusCode < 400) {
        ep.accrual?.onSuccess();
        return { error: undefined, res: result };
      }
      const error = decodeError(result, this.callee);
      const kind = error.status >= 500 ? Failure.Endpoint : Failure.Application;
      if (kind === Failure.Endpoint) ep.accrual?.onFailure();
      else ep.accrual?.onSuccess();
      return { error, kind };
    } catch (e) {
      ep.ewma?.observe(performance.now() - t0);
      for (const s of signals) {
        if (s.aborted) {
          ep.accrual?.onCancel();
          return { error: asRpcError(s.reason), kind: Failure.Stopped };
        }
      }
      if (timedOut) {
        if (Date.now() >= deadline - 1) {
          ep.accrual?.onCancel();
          return {
            error: new RpcError(ErrorCode.Timeout, `Deadline passed calling ${this.callee}`, {
              retryable: false,
            }),
            kind: Failure.Stopped,
          };
        }
        ep.accrual?.onFailure();
        return {
          error: new RpcError(
            `${ErrorCode.Timeout}.attempt`,
            `Attempt to ${this.callee} timed out after ${attemptMs} ms`,
            {
              params: { endpoint: ep.url },
            },
          ),
          kind: Failure.Endpoint,
        };
      }
      const code = (e as { code?: string }).code ?? '';
      ep.accrual?.onFailure();
      if (
        code === 'ECONNREFUSED' ||
        code === 'ENOTFOUND' ||
        code === 'EHOSTUNREACH' ||
        code === 'UND_ERR_CONNECT_TIMEOUT'
      ) {
        return {
          error: new RpcError(
            `${ErrorCode.InternalService}.connection_refused`,
            `${ep.url}: ${(e as Error).message}`,
            {
              params: { endpoint: ep.url },
              cause: e,
            },
          ),
          kind: Failure.NotDelivered,
        };
      }
      return {
        error: new RpcError(
          `${ErrorCode.InternalService}.connection_reset`,
          `${ep.url}: ${(e as Error).message}`,
          {
            params: { endpoint: ep.url, cause: code },
            cause: e,
          },
        ),
        kind: Failure.Endpoint,
      };
    } finally {
      ep.pending--;
      clearTimeout(timer);
      for (const s of signals) s.removeEventListener('abort', abort);
    }
  }

  /** Closes the connection pools and stops re-resolution. */
  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe();
    this.unwatch();
    this.resolver.close();
    await Promise.all(this.nodes.map((n) => n.close()));
  }
}

/** Just enough of an EventEmitter for undici's `signal` option, and an EventListener for callers' signals. */
class AttemptAbort {
  aborted = false;
  reason: unknown;
  private listeners: Array<() => void> = [];
  on(_event: 'abort', fn: () => void): this {
    this.listeners.push(fn);
    return this;
  }
  once(event: 'abort', fn: () => void): this {
    return this.on(event, fn);
  }
  removeListener(_event: 'abort', fn: () => void): this {
    const i = this.listeners.indexOf(fn);
    if (i !== -1) this.listeners.splice(i, 1);
    return this;
  }
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const fns = this.listeners;
    this.listeners = [];
    for (const fn of fns) fn();
  }
  /** As an EventListener: a caller's signal aborted. */
  handleEvent(): void {
    this.abort();
  }
}

function asRpcError(reason: unknown): RpcError {
  if (reason instanceof RpcError) return reason;
  return new RpcError(`${ErrorCode.InternalService}.cancelled`, 'Call cancelled by the caller', {
    retryable: false,
    cause: reason,
  });
}

function header(h: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function decodeError(res: AttemptResult, callee: string): RpcError {
  let err: RpcError;
  if (header(res.headers, Headers.terror) === '1') {
    try {
      err = RpcError.fromWire(JSON.parse(res.text), callee);
    } catch {
      err = RpcError.fromStatus(res.status, res.text, callee);
    }
  } else {
    err = RpcError.fromStatus(res.status, res.text, callee);
  }
  const retryAfter = header(res.headers, 'retry-after');
  if (res.status === 429 && retryAfter && err.params.retry_after_ms === undefined) {
    const s = Number(retryAfter);
    if (Number.isFinite(s)) err.params.retry_after_ms = String(s * 1000);
  }
  return err;
}

function decodeBody(res: AttemptResult): unknown {
  if (res.text === '') return undefined;
  const type = header(res.headers, 'content-type') ?? '';
  if (type.includes('json')) return JSON.parse(res.text);
  return res.text;
}

/** A client for `callee` (see ClientOptions for defaults). */
export function createClient(callee: string, opts?: ClientOptions): Client {
  return new Client(callee, opts);
}
