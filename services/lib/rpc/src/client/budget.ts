/**
 * Finagle's retry budget: a token bucket whose deposits and withdrawals expire after `ttl` (a windowed
 * sum over 10 slices) plus a fixed reserve. Each original request deposits; each retry withdraws
 * `SCALE / percentCanRetry`, so retries stay under `percentCanRetry` of requests plus
 * `minRetriesPerSec` — they can never multiply load in an outage.
 */
export interface RetryBudgetOptions {
  /** Window over which deposits count (default 10 s; 1–60 s). */
  ttlMs?: number;
  /** Retries always allowed per second regardless of traffic (default 10). */
  minRetriesPerSec?: number;
  /** Retries allowed as a fraction of requests (default 0.2; 0–1000). */
  percentCanRetry?: number;
  /** Clock in ms (tests inject one). */
  now?: () => number;
}

const SCALE = 1000;
const SLICES = 10;

export class RetryBudget {
  private readonly deposit_: number;
  private readonly withdraw_: number;
  private readonly reserve: number;
  private readonly sliceMs: number;
  private readonly slices = new Float64Array(SLICES);
  private sum = 0;
  private current: number;
  private readonly now: () => number;
  private readonly never: boolean;

  constructor(opts: RetryBudgetOptions = {}) {
    const ttl = opts.ttlMs ?? 10_000;
    const min = opts.minRetriesPerSec ?? 10;
    const percent = opts.percentCanRetry ?? 0.2;
    if (ttl < 1000 || ttl > 60_000) throw new RangeError(`ttlMs must be 1000..60000, got ${ttl}`);
    if (percent < 0 || percent > 1000)
      throw new RangeError(`percentCanRetry must be 0..1000, got ${percent}`);
    if (min < 0) throw new RangeError(`minRetriesPerSec must be >= 0, got ${min}`);
    this.never = min === 0 && percent === 0;
    this.deposit_ = percent === 0 ? 0 : SCALE;
    this.withdraw_ = percent === 0 ? 1 : Math.floor(SCALE / percent);
    this.reserve = min * (ttl / 1000) * this.withdraw_;
    this.sliceMs = ttl / SLICES;
    this.now = opts.now ?? Date.now;
    this.current = Math.floor(this.now() / this.sliceMs);
  }

  private advance(): void {
    const slice = Math.floor(this.now() / this.sliceMs);
    if (slice === this.current) return;
    const steps = Math.min(SLICES, slice - this.current);
    for (let i = 1; i <= steps; i++) {
      const idx = (this.current + i) % SLICES;
      this.sum -= this.slices[idx];
      this.slices[idx] = 0;
    }
    this.current = slice;
  }

  private add(n: number): void {
    this.advance();
    this.slices[this.current % SLICES] += n;
    this.sum += n;
  }

  /** Called once per original request. */
  deposit(): void {
    if (this.deposit_ !== 0) this.add(this.deposit_);
  }

  /** Takes a retry's worth of tokens if there are enough; false means "do not retry". */
  tryWithdraw(): boolean {
    if (this.never) return false;
    this.advance();
    if (this.sum + this.reserve >= this.withdraw_) {
      this.add(-this.withdraw_);
      return true;
    }
    return false;
  }

  /** Retries currently affordable. */
  get balance(): number {
    if (this.never) return 0;
    this.advance();
    return Math.floor((this.sum + this.reserve) / this.withdraw_);
  }
}
