/**
 * RED metrics per route (server) and per downstream (client), plus retries, budget exhaustion and open
 * circuits, in Prometheus format via prom-client. Names follow linkerd's stats; labels are
 * {caller, callee, endpoint, code} as in the reference. `code` is the top-level error code or `ok`.
 */
import { Gauge, type Metric, Registry } from 'prom-client';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/**
 * Counters and histograms on the request path are plain numbers in a Map keyed by the label values;
 * prom-client reads them at scrape time (it formats the exposition). prom-client's own Counter and
 * Histogram hash and validate a labels object on every observation, which showed in profiles.
 */
abstract class Family<S> {
  protected readonly series = new Map<string, { labels: string[]; s: S }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }
  protected abstract make(): S;
  /** The series for these label values (in labelNames order). */
  protected at(values: string[]): S {
    const key = values.join('\u0001');
    let e = this.series.get(key);
    if (!e) {
      e = { labels: values, s: this.make() };
      this.series.set(key, e);
    }
    return e.s;
  }
  protected labelsOf(values: string[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (let i = 0; i < this.labelNames.length; i++) out[this.labelNames[i]] = values[i];
    return out;
  }
  reset(): void {
    this.series.clear();
  }
}

/** A monotonically increasing count per label set. */
export class FastCounter<L extends string> extends Family<{ v: number }> {
  readonly type = 'counter';
  declare readonly labelNames: readonly L[];
  protected make() {
    return { v: 0 };
  }
  inc(...values: string[]): void {
    this.at(values).v++;
  }
  /** The current value for these label values (0 if never incremented). */
  value(...values: string[]): number {
    return this.series.get(values.join('\u0001'))?.s.v ?? 0;
  }
  async get() {
    const values: MetricValue[] = [];
    for (const { labels, s } of this.series.values())
      values.push({ labels: this.labelsOf(labels), value: s.v });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' };
  }
}

/** A histogram (seconds) per label set. */
export class FastHistogram<L extends string> extends Family<{
  counts: Float64Array;
  sum: number;
  count: number;
}> {
  readonly type = 'histogram';
  declare readonly labelNames: readonly L[];
  protected make() {
    return { counts: new Float64Array(BUCKETS.length), sum: 0, count: 0 };
  }
  observe(seconds: number, ...values: string[]): void {
    const h = this.at(values);
    h.sum += seconds;
    h.count++;
    for (let i = 0; i < BUCKETS.length; i++) {
      if (seconds <= BUCKETS[i]) {
        h.counts[i]++;
        break;
      }
    }
  }
  async get() {
    const values: MetricValue[] = [];
    for (const { labels, s } of this.series.values()) {
      const base = this.labelsOf(labels);
      let acc = 0;
      for (let i = 0; i < BUCKETS.length; i++) {
        acc += s.counts[i];
        values.push({ metricName: `${this.name}_bucket`, labels: { le: BUCKETS[i], ...base }, value: acc });
      }
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...base }, value: s.count });
      values.push({ metricName: `${this.name}_sum`, labels: base, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: base, value: s.count });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' };
  }
}

export class RpcMetrics {
  readonly registry: Registry;
  readonly serverRequests: FastCounter<'callee' | 'caller' | 'endpoint' | 'code'>;
  readonly serverFailures: FastCounter<'callee' | 'caller' | 'endpoint' | 'code'>;
  readonly serverLatency: FastHistogram<'callee' | 'endpoint'>;
  readonly serverPending: Gauge<'callee'>;
  readonly rateLimited: FastCounter<'callee' | 'caller'>;
  readonly clientRequests: FastCounter<'caller' | 'callee' | 'code'>;
  readonly clientFailures: FastCounter<'caller' | 'callee' | 'code'>;
  readonly clientLatency: FastHistogram<'caller' | 'callee'>;
  readonly clientAttempts: FastCounter<'caller' | 'callee' | 'address' | 'code'>;
  readonly retries: FastCounter<'caller' | 'callee'>;
  readonly requeues: FastCounter<'caller' | 'callee'>;
  readonly budgetExhausted: FastCounter<'caller' | 'callee'>;
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
    this.serverRequests = new FastCounter(
      'rpc_server_requests_total',
      'Requests served, by route and outcome',
      ['callee', 'caller', 'endpoint', 'code'],
      registry,
    );
    this.serverFailures = new FastCounter(
      'rpc_server_failures_total',
      'Requests served with an error',
      ['callee', 'caller', 'endpoint', 'code'],
      registry,
    );
    this.serverLatency = new FastHistogram(
      'rpc_server_request_latency_seconds',
      'Time to serve a request',
      ['callee', 'endpoint'],
      registry,
    );
    this.serverPending = new Gauge({
      name: 'rpc_server_pending',
      help: 'Requests being served now',
      labelNames: ['callee'],
      registers: r,
      collect() {
        for (const [callee, pending] of self.pendingSources) this.set({ callee }, pending());
      },
    });
    this.rateLimited = new FastCounter(
      'rpc_server_rate_limited_total',
      'Requests rejected by the per-caller rate limit',
      ['callee', 'caller'],
      registry,
    );
    this.clientRequests = new FastCounter(
      'rpc_client_requests_total',
      'Calls to a downstream service (retries included in one call), by outcome',
      ['caller', 'callee', 'code'],
      registry,
    );
    this.clientFailures = new FastCounter(
      'rpc_client_failures_total',
      'Calls to a downstream service that failed after retries',
      ['caller', 'callee', 'code'],
      registry,
    );
    this.clientLatency = new FastHistogram(
      'rpc_client_request_latency_seconds',
      'Time of a call to a downstream service, retries included',
      ['caller', 'callee'],
      registry,
    );
    this.clientAttempts = new FastCounter(
      'rpc_client_attempts_total',
      'Attempts sent to one endpoint (address) of a downstream service',
      ['caller', 'callee', 'address', 'code'],
      registry,
    );
    this.retries = new FastCounter(
      'rpc_client_retries_total',
      'Retries after a retryable failure',
      ['caller', 'callee'],
      registry,
    );
    this.requeues = new FastCounter(
      'rpc_client_retries_requeues_total',
      'Immediate re-sends after a connection failure (the request never reached the service)',
      ['caller', 'callee'],
      registry,
    );
    this.budgetExhausted = new FastCounter(
      'rpc_client_retries_budget_exhausted_total',
      'Retries not made because the retry budget was empty',
      ['caller', 'callee'],
      registry,
    );
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
