/** Retry backoff: decorrelated jitter, `b0 = min`, `b(n+1) = min(max, min + rand[0, |3·b(n) − min|))`. */
export interface BackoffOptions {
  /** First and smallest backoff (default 10 ms). */
  minMs?: number;
  /** Largest backoff (default 10 s). */
  maxMs?: number;
  random?: () => number;
}

export class DecorrelatedJitter {
  private last: number | undefined;
  private readonly min: number;
  private readonly max: number;
  private readonly random: () => number;

  constructor(opts: BackoffOptions = {}) {
    this.min = opts.minMs ?? 10;
    this.max = opts.maxMs ?? 10_000;
    this.random = opts.random ?? Math.random;
  }

  /** The next delay in ms. */
  next(): number {
    if (this.last === undefined) this.last = this.min;
    else this.last = Math.min(this.max, this.min + this.random() * Math.abs(3 * this.last - this.min));
    return this.last;
  }
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
