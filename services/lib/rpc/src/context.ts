/**
 * The request context: trace, request id, calling service, deadline and cancellation. It lives in
 * AsyncLocalStorage so that every downstream call made while handling a request inherits it.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomFillSync } from 'node:crypto';
import { ErrorCode, RpcError } from './errors.ts';

/** Wire headers (lower-case, as Node presents them). */
export const Headers = {
  traceparent: 'traceparent',
  requestId: 'x-request-id',
  caller: 'origin-service',
  deadline: 'l5d-ctx-deadline',
  terror: 'terror',
} as const;

export interface Context {
  /** This service's name. */
  readonly service: string;
  /** The calling service's name, from the `origin-service` header. */
  readonly caller: string | undefined;
  readonly requestId: string;
  /** 32 hex characters. */
  readonly traceId: string;
  /** 16 hex characters: the current span, parent of any downstream call. */
  readonly spanId: string;
  readonly sampled: boolean;
  /** Epoch milliseconds after which the work is worthless; undefined for none. */
  readonly deadline: number | undefined;
  /** Aborted when the caller goes away, the deadline passes or the handler returns. */
  readonly signal: AbortSignal;
}

const storage = new AsyncLocalStorage<Context>();

/** The context of the request being handled, if any. */
export function currentContext(): Context | undefined {
  return storage.getStore();
}

/** Runs `fn(...args)` with `ctx` as the current context. */
export function runInContext<A extends unknown[], T>(ctx: Context, fn: (...args: A) => T, ...args: A): T {
  return storage.run(ctx, fn, ...args);
}

// Ids come from a pooled buffer of random bytes: one randomFillSync per 256 ids, not one per request.
const POOL = Buffer.allocUnsafe(4096);
let poolOffset = POOL.length;
function randomHex(bytes: number): string {
  if (poolOffset + bytes > POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  const s = POOL.toString('hex', poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return s;
}
export const newTraceId = (): string => randomHex(16);
export const newSpanId = (): string => randomHex(8);

export interface TraceParent {
  traceId: string;
  parentId: string;
  sampled: boolean;
}

const HEX = /^[0-9a-f]+$/;
/** Parses a W3C `traceparent` (version 00); undefined if malformed or all-zero. */
export function parseTraceparent(h: string | undefined): TraceParent | undefined {
  if (!h || h.length < 55 || h.charCodeAt(2) !== 45 || h.charCodeAt(35) !== 45 || h.charCodeAt(52) !== 45) {
    return undefined;
  }
  const traceId = h.slice(3, 35);
  const parentId = h.slice(36, 52);
  const flags = h.slice(53, 55);
  if (!HEX.test(traceId) || !HEX.test(parentId) || !HEX.test(flags)) return undefined;
  if (traceId === '00000000000000000000000000000000' || parentId === '0000000000000000') return undefined;
  return { traceId, parentId, sampled: (Number.parseInt(flags, 16) & 1) === 1 };
}

export function formatTraceparent(traceId: string, spanId: string, sampled: boolean): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}

/** Parses `l5d-ctx-deadline` ("<timestamp_ns> <deadline_ns>", repeated values folded by the strictest). */
/** Node's setTimeout limit: a longer delay (over 24.8 days) fires after 1 ms instead. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * `setTimeout` for any delay, never firing early: a delay past Node's limit waits in steps of the limit
 * (the same handle, re-armed), so `clearTimeout` and `unref` work as usual. A far deadline (a client that
 * sends one years ahead) then means "no deadline in practice" instead of an immediate timeout.
 */
export function safeTimeout(fn: () => void, ms: number): NodeJS.Timeout {
  if (!(ms > MAX_TIMER_MS)) return setTimeout(fn, ms);
  const due = Date.now() + ms;
  const t: NodeJS.Timeout = setTimeout(() => {
    if (Date.now() >= due) fn();
    else t.refresh();
  }, MAX_TIMER_MS);
  return t;
}

export function parseDeadline(h: string | string[] | undefined): number | undefined {
  if (h === undefined) return undefined;
  const values = Array.isArray(h) ? h : h.split(',');
  let min: number | undefined;
  for (const v of values) {
    const parts = v.trim().split(' ');
    const ns = parts[1] ?? parts[0];
    if (!ns || !/^\d+$/.test(ns)) continue;
    // Milliseconds are enough resolution; avoid BigInt on the hot path.
    const ms = ns.length > 6 ? Number(ns.slice(0, -6)) : 0;
    if (min === undefined || ms < min) min = ms;
  }
  return min;
}

export function formatDeadline(now: number, deadline: number): string {
  return `${Math.floor(now)}000000 ${Math.floor(deadline)}000000`;
}

/** `combine(d1, d2)`: the strictest deadline wins. */
export function combineDeadlines(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a < b ? a : b;
}

export const expiredError = (): RpcError =>
  new RpcError(ErrorCode.Timeout, 'Request has expired', { retryable: false });

export interface ContextInit {
  service: string;
  caller?: string;
  requestId?: string;
  traceId?: string;
  spanId?: string;
  sampled?: boolean;
  deadline?: number;
  /** An outer signal to follow (e.g. a caller's). */
  signal?: AbortSignal;
}

/**
 * A context whose AbortController is created only when someone asks for the signal: most handlers
 * never do, and an AbortController per request is measurable on the hot path.
 */
export class RequestContext implements Context {
  readonly service: string;
  readonly caller: string | undefined;
  readonly requestId: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean;
  readonly deadline: number | undefined;
  private controller: AbortController | undefined;
  private reason: unknown;
  private ended = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly outer: AbortSignal | undefined;

  constructor(init: ContextInit) {
    this.service = init.service;
    this.caller = init.caller;
    this.requestId = init.requestId ?? newTraceId();
    this.traceId = init.traceId ?? newTraceId();
    this.spanId = init.spanId ?? newSpanId();
    this.sampled = init.sampled ?? true;
    this.deadline = init.deadline;
    this.outer = init.signal;
  }

  get signal(): AbortSignal {
    if (this.controller) return this.controller.signal;
    const c = new AbortController();
    this.controller = c;
    if (this.ended) {
      c.abort(this.reason ?? new RpcError(`${ErrorCode.InternalService}.cancelled`, 'Request cancelled'));
      return c.signal;
    }
    if (this.outer) {
      if (this.outer.aborted) c.abort(this.outer.reason);
      else this.outer.addEventListener('abort', () => this.cancel(this.outer?.reason), { once: true });
    }
    if (this.deadline !== undefined && !c.signal.aborted) {
      const left = this.deadline - Date.now();
      if (left <= 0) c.abort(expiredError());
      else {
        this.timer = safeTimeout(() => this.cancel(expiredError()), left);
        this.timer.unref();
      }
    }
    return c.signal;
  }

  /** True if cancelled (without creating a signal). */
  get cancelled(): boolean {
    return this.ended || (this.controller?.signal.aborted ?? false);
  }

  /** Cancels the context: downstream calls made with it abort. Idempotent. */
  cancel(reason?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.reason = reason;
    if (this.timer) clearTimeout(this.timer);
    // The error (and its stack) is only built when someone holds the signal: cheap on the hot path.
    if (this.controller && !this.controller.signal.aborted) {
      this.controller.abort(
        reason ?? new RpcError(`${ErrorCode.InternalService}.cancelled`, 'Request cancelled'),
      );
    }
  }
}

/**
 * Runs `fn` in a fresh context, for calls that do not start from an inbound request (jobs, scripts,
 * the edge). The `signal` and `deadline` given bound every downstream call made inside.
 */
export function withContext<T>(init: ContextInit, fn: () => T): T {
  const parent = currentContext();
  const ctx = new RequestContext({
    requestId: parent?.requestId,
    traceId: parent?.traceId,
    sampled: parent?.sampled,
    caller: parent?.caller,
    ...init,
    deadline: combineDeadlines(init.deadline, parent?.deadline),
    signal: init.signal ?? parent?.signal,
  });
  return storage.run(ctx, fn);
}
