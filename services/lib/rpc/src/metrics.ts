/**
 * RED metrics per route (server) and per downstream (client), plus retries, budget exhaustion and open
 * circuits, in Prometheus format via prom-client. Names follow linkerd's stats; labels are
 * {caller, callee, endpoint, code} as in the reference. `code` is the top-level error code or `ok`.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class RpcMetrics {
  readonly registry: Registry;
  readonly serverRequests: Counter<'callee' | 'caller' | 'endpoint' | 'code'>;
  readonly serverFailures: Counter<'callee' | 'caller' | 'endpoint' | 'code'>;
  readonly serverLatency: Histogram<'callee' | 'endpoint'>;
  readonly serverPending: Gauge<'callee'>;
  readonly rateLimited: Counter<'callee' | 'caller'>;
  readonly clientRequests: Counter<'caller' | 'callee' | 'code'>;
  readonly clientFailures: Counter<'caller' | 'callee' | 'code'>;
  readonly clientLatency: Histogram<'caller' | 'callee'>;
  readonly clientAttempts: Counter<'caller' | 'callee' | 'address' | 'code'>;
  readonly retries: Counter<'caller' | 'callee'>;
  readonly requeues: Counter<'caller' | 'callee'>;
  readonly budgetExhausted: Counter<'caller' | 'callee'>;
  readonly openCircuits: Gauge<'caller' | 'callee'>;
  readonly endpoints: Gauge<'caller' | 'callee'>;

  /** Sources read at scrape time, so gauges cost nothing per request. */
  private readonly pendingSources = new Map<string, () => number>();
  private readonly clientSources = new Set<{
    caller: string;
    callee: string;
    dead(): number;
    size(): number;
  }>();

  /** Reports a server's in-flight count under `callee` at scrape time. */
  watchServer(callee: string, pending: () => number): () => void {
    this.pendingSources.set(callee, pending);
    return () => this.pendingSources.delete(callee);
  }

  /** Reports a client's dead and resolved endpoints at scrape time. */
  watchClient(src: { caller: string; callee: string; dead(): number; size(): number }): () => void {
    this.clientSources.add(src);
    return () => this.clientSources.delete(src);
  }

  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    const self = this;
    const r = [registry];
    this.serverRequests = new Counter({
      name: 'rpc_server_requests_total',
      help: 'Requests served, by route and outcome',
      labelNames: ['callee', 'caller', 'endpoint', 'code'],
      registers: r,
    });
    this.serverFailures = new Counter({
      name: 'rpc_server_failures_total',
      help: 'Requests served with an error',
      labelNames: ['callee', 'caller', 'endpoint', 'code'],
      registers: r,
    });
    this.serverLatency = new Histogram({
      name: 'rpc_server_request_latency_seconds',
      help: 'Time to serve a request',
      labelNames: ['callee', 'endpoint'],
      buckets: BUCKETS,
      registers: r,
    });
    this.serverPending = new Gauge({
      name: 'rpc_server_pending',
      help: 'Requests being served now',
      labelNames: ['callee'],
      registers: r,
      collect() {
        for (const [callee, pending] of self.pendingSources) this.set({ callee }, pending());
      },
    });
    this.rateLimited = new Counter({
      name: 'rpc_server_rate_limited_total',
      help: 'Requests rejected by the per-caller rate limit',
      labelNames: ['callee', 'caller'],
      registers: r,
    });
    this.clientRequests = new Counter({
      name: 'rpc_client_requests_total',
      help: 'Calls to a downstream service (retries included in one call), by outcome',
      labelNames: ['caller', 'callee', 'code'],
      registers: r,
    });
    this.clientFailures = new Counter({
      name: 'rpc_client_failures_total',
      help: 'Calls to a downstream service that failed after retries',
      labelNames: ['caller', 'callee', 'code'],
      registers: r,
    });
    this.clientLatency = new Histogram({
      name: 'rpc_client_request_latency_seconds',
      help: 'Time of a call to a downstream service, retries included',
      labelNames: ['caller', 'callee'],
      buckets: BUCKETS,
      registers: r,
    });
    this.clientAttempts = new Counter({
      name: 'rpc_client_attempts_total',
      help: 'Attempts sent to one endpoint (address) of a downstream service',
      labelNames: ['caller', 'callee', 'address', 'code'],
      registers: r,
    });
    this.retries = new Counter({
      name: 'rpc_client_retries_total',
      help: 'Retries after a retryable failure',
      labelNames: ['caller', 'callee'],
      registers: r,
    });
    this.requeues = new Counter({
      name: 'rpc_client_retries_requeues_total',
      help: 'Immediate re-sends after a connection failure (the request never reached the service)',
      labelNames: ['caller', 'callee'],
      registers: r,
    });
    this.budgetExhausted = new Counter({
      name: 'rpc_client_retries_budget_exhausted_total',
      help: 'Retries not made because the retry budget was empty',
      labelNames: ['caller', 'callee'],
      registers: r,
    });
    this.openCircuits = new Gauge({
      name: 'rpc_client_open_circuits',
      help: 'Endpoints of a downstream service marked dead by failure accrual',
      labelNames: ['caller', 'callee'],
      registers: r,
      collect() {
        for (const c of self.clientSources) this.set({ caller: c.caller, callee: c.callee }, c.dead());
      },
    });
    this.endpoints = new Gauge({
      name: 'rpc_client_endpoints',
      help: 'Endpoints currently resolved for a downstream service',
      labelNames: ['caller', 'callee'],
      registers: r,
      collect() {
        for (const c of self.clientSources) this.set({ caller: c.caller, callee: c.callee }, c.size());
      },
    });
  }
}

/** The top-level part of an error code, which bounds the label's cardinality. */
export function codeLabel(code: string | undefined): string {
  if (code === undefined) return 'ok';
  const dot = code.indexOf('.');
  return dot === -1 ? code : code.slice(0, dot);
}

let shared: RpcMetrics | undefined;
/** The process-wide metrics (one service per process), served by every server's `/metrics`. */
export function defaultMetrics(): RpcMetrics {
  shared ??= new RpcMetrics();
  return shared;
}
