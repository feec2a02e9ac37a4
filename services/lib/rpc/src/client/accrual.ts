/**
 * Failure accrual per endpoint (Finagle): 5 consecutive failures mark it Dead; after an equal-jitter
 * backoff from 5 s to 300 s it is ProbeOpen; the first request makes it ProbeClosed; success revives
 * it and resets the backoff, failure kills it again with the next, longer backoff. Dead and
 * ProbeClosed report Busy, so the balancer avoids the endpoint without forgetting it.
 */
export type AccrualState = 'alive' | 'dead' | 'probeOpen' | 'probeClosed';
export type Status = 'open' | 'busy';

export interface AccrualOptions {
  /** Consecutive failures that mark an endpoint dead (default 5). */
  failures?: number;
  /** First backoff (default 5 s). */
  minBackoffMs?: number;
  /** Largest backoff (default 300 s). */
  maxBackoffMs?: number;
  now?: () => number;
  random?: () => number;
}

export class FailureAccrual {
  private state_: AccrualState = 'alive';
  private consecutive = 0;
  private deaths = 0;
  private deadUntil = 0;
  private readonly threshold: number;
  private readonly minMs: number;
  private readonly maxMs: number;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(opts: AccrualOptions = {}) {
    this.threshold = opts.failures ?? 5;
    this.minMs = opts.minBackoffMs ?? 5_000;
    this.maxMs = opts.maxBackoffMs ?? 300_000;
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
  }

  get state(): AccrualState {
    if (this.state_ === 'dead' && this.now() >= this.deadUntil) this.state_ = 'probeOpen';
    return this.state_;
  }

  get status(): Status {
    const s = this.state;
    return s === 'dead' || s === 'probeClosed' ? 'busy' : 'open';
  }

  /** `b(n) = min(max, min·2^(n−1) + rand[0, min·2^(n−1)))`, for the n-th death in a row. */
  backoffMs(n: number): number {
    const base = this.minMs * 2 ** (n - 1);
    return Math.min(this.maxMs, base + this.random() * base);
  }

  /** A request is about to be sent to this endpoint. */
  onRequest(): void {
    if (this.state === 'probeOpen') this.state_ = 'probeClosed';
  }

  onSuccess(): void {
    this.consecutive = 0;
    this.deaths = 0;
    this.state_ = 'alive';
  }

  onFailure(): void {
    this.consecutive++;
    if (this.state_ === 'probeClosed' || (this.state_ === 'alive' && this.consecutive >= this.threshold)) {
      this.deaths++;
      this.deadUntil = this.now() + this.backoffMs(this.deaths);
      this.state_ = 'dead';
    }
  }

  /** The request ended without a verdict (the caller cancelled): a probe may be sent again. */
  onCancel(): void {
    if (this.state_ === 'probeClosed') this.state_ = 'probeOpen';
  }

  /** Epoch ms until which the endpoint is dead (0 when alive). */
  get until(): number {
    return this.state_ === 'dead' ? this.deadUntil : 0;
  }
}
