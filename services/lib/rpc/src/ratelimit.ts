/**
 * Per-caller token buckets on the server (the reference's proposal: Monzo's limiter was private).
 * A request over the limit is `rate_limited` (429) with Retry-After; that code is retryable, so the
 * caller's retry budget is what bounds a retry storm.
 */
import { ErrorCode, RpcError } from './errors.ts';
import type { Filter } from './filter.ts';
import type { Request } from './service.ts';

export interface BucketLimit {
  /** Sustained requests per second. */
  ratePerSec: number;
  /** Bucket size: the burst allowed after idling (default = ratePerSec). */
  burst?: number;
}

export interface RateLimitOptions extends BucketLimit {
  /** Limits for named callers, overriding the default. */
  callers?: Record<string, BucketLimit>;
  /** The bucket key (default: the `origin-service` caller, or `anonymous`). */
  key?: (req: Request) => string;
  /** Clock in ms (tests inject one). */
  now?: () => number;
  /** Called for each rejected request. */
  onReject?: (caller: string) => void;
  /** Forget buckets idle for this long (default 60 s), so unknown callers cost bounded memory. */
  idleMs?: number;
}

interface Bucket {
  tokens: number;
  last: number;
  rate: number;
  burst: number;
}

/** A token bucket store: `take(key)` returns 0 if allowed, else the ms until a token is available. */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private lastSweep = 0;

  constructor(private readonly opts: RateLimitOptions) {}

  take(key: string, caller: string): number {
    const now = (this.opts.now ?? Date.now)();
    let b = this.buckets.get(key);
    if (!b) {
      const lim = this.opts.callers?.[caller] ?? this.opts;
      const burst = lim.burst ?? lim.ratePerSec;
      b = { tokens: burst, last: now, rate: lim.ratePerSec, burst };
      this.buckets.set(key, b);
      this.sweep(now);
    } else {
      b.tokens = Math.min(b.burst, b.tokens + ((now - b.last) * b.rate) / 1000);
      b.last = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return b.rate > 0 ? Math.ceil(((1 - b.tokens) * 1000) / b.rate) : 60_000;
  }

  private sweep(now: number): void {
    const idle = this.opts.idleMs ?? 60_000;
    if (now - this.lastSweep < idle) return;
    this.lastSweep = now;
    for (const [k, b] of this.buckets) if (now - b.last > idle) this.buckets.delete(k);
  }
}

/** The rate-limit filter. */
export function rateLimitFilter(opts: RateLimitOptions): Filter {
  const buckets = new TokenBuckets(opts);
  return (req, next) => {
    const caller = req.context.caller ?? 'anonymous';
    const key = opts.key ? opts.key(req) : caller;
    const waitMs = buckets.take(key, caller);
    if (waitMs === 0) return next(req);
    opts.onReject?.(caller);
    const err = new RpcError(ErrorCode.RateLimited, `Rate limit exceeded for caller ${caller}`, {
      params: { caller, retry_after_ms: String(waitMs) },
    });
    return Promise.resolve({
      status: 429,
      error: err,
      headers: { 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))) },
    });
  };
}
