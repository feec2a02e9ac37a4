/**
 * One endpoint of a downstream service: a bounded keep-alive connection pool (undici `Pool`), its
 * failure accrual and its load. The balancer keeps these across discovery updates.
 */
import { Pool } from 'undici';
import { type AccrualOptions, FailureAccrual, type Status } from './accrual.ts';
import type { BalancerKind, Node } from './balancer.ts';
import { PeakEwma } from './balancer.ts';

export interface PoolOptions {
  /** Connections per endpoint, at most (default 64). Requests beyond wait in the pool's queue. */
  connections?: number;
  /** Idle keep-alive time of a connection (default 60 s, under the server's 65 s to avoid reuse races). */
  keepAliveTimeoutMs?: number;
}

export class Endpoint implements Node {
  readonly pool: Pool;
  readonly accrual: FailureAccrual | undefined;
  readonly ewma: PeakEwma | undefined;
  pending = 0;

  constructor(
    readonly url: string,
    kind: BalancerKind,
    pool: PoolOptions,
    accrual: AccrualOptions | false,
    decayMs?: number,
  ) {
    const keepAlive = pool.keepAliveTimeoutMs ?? 60_000;
    this.pool = new Pool(url, {
      connections: pool.connections ?? 64,
      pipelining: 1,
      keepAliveTimeout: keepAlive,
      keepAliveMaxTimeout: keepAlive,
      // Our own timers bound each attempt; these only catch a wedged socket.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    this.accrual = accrual === false ? undefined : new FailureAccrual(accrual);
    this.ewma = kind === 'ewma' ? new PeakEwma(decayMs) : undefined;
  }

  get status(): Status {
    return this.accrual ? this.accrual.status : 'open';
  }

  load(): number {
    return this.ewma ? this.ewma.load(this.pending) : this.pending;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
