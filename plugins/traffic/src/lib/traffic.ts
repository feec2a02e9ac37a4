import { DDSketch } from '@datadog/sketches-js';
import { KIND, type Span } from './spans.ts';

/**
 * Call edges from spans, paired as the OpenTelemetry Collector's servicegraph connector pairs them: a CLIENT
 * (or PRODUCER) span and the SERVER (or CONSUMER) span whose parent it is, from another service, make one
 * request on the edge caller → callee. Either half may arrive first, in another request: it waits in a
 * bounded store until its partner comes or its time is up. A client span whose partner never comes becomes a
 * request to a virtual callee named by `peer.service` (else db / topic / server address): an uninstrumented
 * service or a datastore.
 *
 * Per edge and window (1 min, 1 h, 1 day buckets): requests, errors and a DDSketch of the caller's latency
 * (mergeable, 1 % relative accuracy), plus first and last seen. Requests are bucketed by the time the portal
 * received them, so a sender's skewed clock moves no figure; latencies come from each span's own clock.
 *
 * Memory is bounded whatever arrives: the waiting spans (oldest expire first), the distinct service names
 * that are not in the catalogue, the edges, and the buckets per edge are all capped, and whatever a cap
 * refuses is counted and reported, never silently lost.
 */

export type EdgeType = 'rpc' | 'async' | 'db' | 'external';
export type WindowName = '1m' | '1h' | '1d';

export const WINDOWS: Record<WindowName, number> = { '1m': 60_000, '1h': 3_600_000, '1d': 86_400_000 };
const WINDOW_NAMES = Object.keys(WINDOWS) as WindowName[];

export interface TrafficLimits {
  /** How long half a pair waits for the other (servicegraph's store.ttl). */
  pairTtlMs: number;
  /** Spans waiting for their partner (servicegraph's store.max_items). */
  maxWaiting: number;
  /** Distinct service names not in the catalogue. */
  maxUnknownServices: number;
  /** Distinct edges. */
  maxEdges: number;
  /** Buckets kept per edge and window: 1m → the last hour, 1h → the last day, 1d → the retention. */
  keep: Record<WindowName, number>;
}

export const DEFAULT_LIMITS: TrafficLimits = {
  pairTtlMs: 10_000,
  maxWaiting: 100_000,
  maxUnknownServices: 1_000,
  maxEdges: 100_000,
  keep: { '1m': 61, '1h': 25, '1d': 30 },
};

export interface Bucket {
  startMs: number;
  requests: number;
  errors: number;
  latency: DDSketch;
}

export interface EdgeState {
  caller: string;
  callee: string;
  type: EdgeType;
  virtual: boolean;
  requests: number;
  errors: number;
  firstSeenMs: number;
  lastSeenMs: number;
  buckets: Record<WindowName, Bucket[]>;
}

export interface ServiceState {
  name: string;
  firstSeenMs: number;
  lastSeenMs: number;
}

/** What one ingest did. */
export interface IngestResult {
  spans: number;
  /** Requests added to edges (pairs and expired client spans). */
  requests: number;
  /** Spans refused because the cap on unknown service names was reached. */
  refusedUnknown: number;
  refusedUnknownNames: string[];
  /** Edges that changed (new or more requests). */
  touched: EdgeState[];
}

export interface TrafficCounters {
  spans: number;
  paired: number;
  /** Client spans that expired and became requests to a virtual callee. */
  virtual: number;
  /** Server spans whose parent never came (the caller is not instrumented, or a root span). */
  unpaired: number;
  /** Spans pushed out of the waiting store by the cap before their time was up. */
  evicted: number;
  /** Requests on new edges refused by the cap on edges. */
  droppedEdges: number;
  refusedUnknown: number;
}

/** One request as the journal keeps it: caller, callee, type, virtual, error, latency ms, when (ms). */
export type JournalRequest = [string, string, EdgeType, 0 | 1, 0 | 1, number, number];
/** Service seen at (ms). */
export type JournalService = [string, number];

interface Waiting {
  span: Span;
  expiresAt: number;
}

/** A resolver from a span's service name to whether the catalogue knows it. */
export type IsKnown = (name: string) => boolean;

const sep = '\u0000';
const edgeKey = (caller: string, callee: string, type: EdgeType) => `${caller}${sep}${callee}${sep}${type}`;

export function newSketch(): DDSketch {
  return new DDSketch({ relativeAccuracy: 0.01 });
}

export class TrafficState {
  readonly edges = new Map<string, EdgeState>();
  /** Edges by caller and callee name (all types), so a batch's graph update touches only its pairs. */
  readonly byPair = new Map<string, EdgeState[]>();
  readonly services = new Map<string, ServiceState>();
  /** Unknown names seen (bounded by `maxUnknownServices`). */
  readonly unknown = new Set<string>();
  readonly counters: TrafficCounters = {
    spans: 0,
    paired: 0,
    virtual: 0,
    unpaired: 0,
    evicted: 0,
    droppedEdges: 0,
    refusedUnknown: 0,
  };
  /** Client/producer spans by trace + own id, waiting for their server span. */
  private clients = new Map<string, Waiting>();
  /** Server/consumer spans by trace + parent id, waiting for their client span. */
  private servers = new Map<string, Waiting>();
  /** Edges and services changed since the last {@link takeDirty}. */
  private dirtyEdges = new Set<EdgeState>();
  /** Keyed by the bucket itself: a request costs no key string (buckets are never copied, only replaced). */
  private dirtyBuckets = new Map<Bucket, { edge: EdgeState; window: WindowName; bucket: Bucket }>();
  private dirtyServices = new Set<ServiceState>();
  /** Requests and services since the last {@link takeJournal} (what a store appends before answering). */
  private journalRequests: JournalRequest[] = [];
  private journalServices: JournalService[] = [];

  constructor(
    readonly limits: TrafficLimits = DEFAULT_LIMITS,
    private isKnown: IsKnown = () => true,
  ) {}

  setResolver(isKnown: IsKnown): void {
    this.isKnown = isKnown;
  }

  get waiting(): number {
    return this.clients.size + this.servers.size;
  }

  /** Pairs the spans, updates the edges; `now` is when the portal received them. */
  ingest(spans: readonly Span[], now: number): IngestResult {
    const touched = new Set<EdgeState>();
    const result: IngestResult = {
      spans: 0,
      requests: 0,
      refusedUnknown: 0,
      refusedUnknownNames: [],
      touched: [],
    };
    this.expire(now, touched, result);
    for (const s of spans) {
      if (!this.admit(s.service) || (s.peer !== undefined && isCaller(s.kind) && !this.admit(s.peer))) {
        result.refusedUnknown++;
        this.counters.refusedUnknown++;
        const name = this.admit(s.service) ? (s.peer as string) : s.service;
        if (result.refusedUnknownNames.length < 5 && !result.refusedUnknownNames.includes(name))
          result.refusedUnknownNames.push(name);
        continue;
      }
      result.spans++;
      this.counters.spans++;
      this.seen(s.service, now);
      if (isCaller(s.kind)) {
        const key = s.traceId + s.spanId;
        const server = this.servers.get(key);
        if (server) {
          this.servers.delete(key);
          this.pair(s, server.span, now, touched, result);
        } else this.wait(this.clients, key, s, now, touched, result);
      } else if (s.kind === KIND.server || s.kind === KIND.consumer) {
        if (s.parentSpanId === '') continue; // a root span: nobody called it that we could know of
        const key = s.traceId + s.parentSpanId;
        const client = this.clients.get(key);
        if (client) {
          this.clients.delete(key);
          this.pair(client.span, s, now, touched, result);
        } else this.wait(this.servers, key, s, now, touched, result);
      }
    }
    result.touched = [...touched];
    return result;
  }

  /** Expires what waited too long (also called by a timer, so edges appear without new traffic). */
  expire(now: number, touched = new Set<EdgeState>(), result?: IngestResult): EdgeState[] {
    for (const [key, w] of this.clients) {
      if (w.expiresAt > now) break; // insertion order is expiry order: same TTL for all
      this.clients.delete(key);
      this.expireClient(w.span, now, touched, result);
    }
    for (const [key, w] of this.servers) {
      if (w.expiresAt > now) break;
      this.servers.delete(key);
      this.counters.unpaired++;
    }
    return [...touched];
  }

  /** Everything waiting is settled now (shutdown): client spans become virtual requests. */
  settleAll(now: number): EdgeState[] {
    const touched = new Set<EdgeState>();
    for (const w of this.clients.values()) this.expireClient(w.span, now, touched);
    this.counters.unpaired += this.servers.size;
    this.clients.clear();
    this.servers.clear();
    return [...touched];
  }

  /** Edges, buckets and services changed since the last call (what a store must write). */
  takeDirty(): {
    edges: EdgeState[];
    buckets: { edge: EdgeState; window: WindowName; bucket: Bucket }[];
    services: ServiceState[];
  } {
    const out = {
      edges: [...this.dirtyEdges],
      buckets: [...this.dirtyBuckets.values()],
      services: [...this.dirtyServices],
    };
    this.dirtyEdges.clear();
    this.dirtyBuckets.clear();
    this.dirtyServices.clear();
    return out;
  }

  /** The requests and sightings since the last call, for the store's journal. */
  takeJournal(): { requests: JournalRequest[]; services: JournalService[] } {
    const out = { requests: this.journalRequests, services: this.journalServices };
    this.journalRequests = [];
    this.journalServices = [];
    return out;
  }

  /** Puts back a journal a failed append did not store. */
  restoreJournal(j: { requests: JournalRequest[]; services: JournalService[] }): void {
    this.journalRequests = [...j.requests, ...this.journalRequests];
    this.journalServices = [...j.services, ...this.journalServices];
  }

  /** Applies journalled requests again (at start, what the last checkpoint had not folded in). */
  replay(j: { requests: JournalRequest[]; services: JournalService[] }): void {
    const touched = new Set<EdgeState>();
    for (const [name, at] of j.services) this.seen(name, at);
    for (const [caller, callee, type, virtual, error, ms, at] of j.requests)
      this.record(caller, callee, type, virtual === 1, error === 1, ms, at, touched);
    // Replayed, they are in the aggregates: the next checkpoint stores them; they are not journalled again.
    this.journalRequests = [];
    this.journalServices = [];
  }

  /** Puts back what a failed write did not store, so the next write tries again. */
  restoreDirty(d: ReturnType<TrafficState['takeDirty']>): void {
    for (const e of d.edges) this.dirtyEdges.add(e);
    for (const b of d.buckets) this.dirtyBuckets.set(b.bucket, b);
    for (const s of d.services) this.dirtyServices.add(s);
  }

  /** Loads stored state (at start). */
  load(edges: EdgeState[], services: ServiceState[]): void {
    for (const e of edges) {
      this.edges.set(edgeKey(e.caller, e.callee, e.type), e);
      this.indexPair(e);
      for (const name of [e.caller, e.callee]) if (!this.isKnown(name)) this.unknown.add(name);
    }
    for (const s of services) {
      this.services.set(s.name, s);
      if (!this.isKnown(s.name)) this.unknown.add(s.name);
    }
  }

  private admit(name: string): boolean {
    if (this.unknown.has(name) || this.isKnown(name)) return true;
    if (this.unknown.size >= this.limits.maxUnknownServices) return false;
    this.unknown.add(name);
    return true;
  }

  private seen(name: string, now: number): void {
    let s = this.services.get(name);
    if (!s) {
      s = { name, firstSeenMs: now, lastSeenMs: now };
      this.services.set(name, s);
      this.dirtyServices.add(s);
      this.journalServices.push([name, now]);
    } else if (now - s.lastSeenMs >= 1000) {
      // Last seen to the second is enough; it keeps the writes per batch small.
      s.lastSeenMs = now;
      this.dirtyServices.add(s);
      this.journalServices.push([name, now]);
    }
  }

  private wait(
    map: Map<string, Waiting>,
    key: string,
    span: Span,
    now: number,
    touched: Set<EdgeState>,
    result: IngestResult,
  ): void {
    if (map.has(key)) return; // a duplicate (a retried export): the first copy is kept
    if (this.waiting >= this.limits.maxWaiting) {
      // The oldest waiting span goes first, settled as if its time were up.
      const from = this.clients.size >= this.servers.size ? this.clients : this.servers;
      const first = from.entries().next().value;
      if (first) {
        from.delete(first[0]);
        this.counters.evicted++;
        if (from === this.clients) this.expireClient(first[1].span, now, touched, result);
        else this.counters.unpaired++;
      }
    }
    map.set(key, { span, expiresAt: now + this.limits.pairTtlMs });
  }

  private expireClient(span: Span, now: number, touched: Set<EdgeState>, result?: IngestResult): void {
    this.counters.virtual++;
    const callee = span.peer ?? 'unknown';
    const type: EdgeType = span.db ? 'db' : span.kind === KIND.producer ? 'async' : 'external';
    if (callee === span.service) return;
    this.record(
      span.service,
      callee,
      type,
      true,
      span.error,
      span.endMs - span.startMs,
      now,
      touched,
      result,
    );
  }

  private pair(client: Span, server: Span, now: number, touched: Set<EdgeState>, result: IngestResult): void {
    if (client.service === server.service) return; // a call inside one service is no edge
    this.counters.paired++;
    const type: EdgeType = server.kind === KIND.consumer ? 'async' : 'rpc';
    const error = client.error || server.error;
    this.record(
      client.service,
      server.service,
      type,
      false,
      error,
      client.endMs - client.startMs,
      now,
      touched,
      result,
    );
  }

  private record(
    caller: string,
    callee: string,
    type: EdgeType,
    virtual: boolean,
    error: boolean,
    latencyMs: number,
    now: number,
    touched: Set<EdgeState>,
    result?: IngestResult,
  ): void {
    const key = edgeKey(caller, callee, type);
    let edge = this.edges.get(key);
    if (!edge) {
      if (this.edges.size >= this.limits.maxEdges) {
        this.counters.droppedEdges++;
        return;
      }
      edge = {
        caller,
        callee,
        type,
        virtual,
        requests: 0,
        errors: 0,
        firstSeenMs: now,
        lastSeenMs: now,
        buckets: { '1m': [], '1h': [], '1d': [] },
      };
      this.edges.set(key, edge);
      this.indexPair(edge);
    }
    // A paired request proves the callee instrumented: the edge is no longer virtual.
    if (!virtual) edge.virtual = false;
    edge.requests++;
    if (error) edge.errors++;
    if (now > edge.lastSeenMs) edge.lastSeenMs = now;
    this.dirtyEdges.add(edge);
    const latency = Math.max(0, latencyMs);
    for (const w of WINDOW_NAMES) {
      const bucket = this.bucketOf(edge, w, now);
      bucket.requests++;
      if (error) bucket.errors++;
      bucket.latency.accept(latency);
      if (!this.dirtyBuckets.has(bucket)) this.dirtyBuckets.set(bucket, { edge, window: w, bucket });
    }
    touched.add(edge);
    this.journalRequests.push([caller, callee, type, virtual ? 1 : 0, error ? 1 : 0, latencyMs, now]);
    if (result) result.requests++;
  }

  private indexPair(edge: EdgeState): void {
    const key = `${edge.caller}${sep}${edge.callee}`;
    const list = this.byPair.get(key);
    if (list) list.push(edge);
    else this.byPair.set(key, [edge]);
  }

  /** Every edge (of any type) between the same two names as `edge`. */
  samePair(edge: EdgeState): EdgeState[] {
    return this.byPair.get(`${edge.caller}${sep}${edge.callee}`) ?? [edge];
  }

  private bucketOf(edge: EdgeState, w: WindowName, now: number): Bucket {
    const size = WINDOWS[w];
    const start = Math.floor(now / size) * size;
    const list = edge.buckets[w];
    const last = list[list.length - 1];
    if (last && last.startMs === start) return last;
    // Buckets are kept in time order; a late arrival (a slower request) may land in an older one.
    const found = list.find((b) => b.startMs === start);
    if (found) return found;
    const bucket: Bucket = { startMs: start, requests: 0, errors: 0, latency: newSketch() };
    list.push(bucket);
    list.sort((a, b) => a.startMs - b.startMs);
    const cutoff = bucketCutoff(w, now, this.limits.keep[w]);
    while (list.length > 0 && list[0].startMs < cutoff) list.shift();
    return bucket;
  }
}

/** The oldest bucket start of window `w` still kept at `now` (the same rule in memory and in the store). */
export function bucketCutoff(w: WindowName, now: number, keep: number): number {
  const size = WINDOWS[w];
  return Math.floor(now / size) * size - size * (keep - 1);
}

function isCaller(kind: number): boolean {
  return kind === KIND.client || kind === KIND.producer;
}

/** An edge's figures over one window: the current and the previous bucket of that size. */
export interface EdgeHealth {
  window: WindowName;
  requests: number;
  errors: number;
  errorRate: number;
  /** Requests per second over the time the two buckets cover so far. */
  rps: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

export function healthOf(edge: EdgeState, w: WindowName, now: number): EdgeHealth {
  const size = WINDOWS[w];
  const from = Math.floor(now / size) * size - size;
  const sketch = newSketch();
  let requests = 0;
  let errors = 0;
  for (const b of edge.buckets[w]) {
    if (b.startMs < from) continue;
    requests += b.requests;
    errors += b.errors;
    sketch.merge(b.latency);
  }
  const q = (p: number) => (requests > 0 ? round(sketch.getValueAtQuantile(p)) : null);
  return {
    window: w,
    requests,
    errors,
    errorRate: requests > 0 ? round(errors / requests, 4) : 0,
    rps: round(requests / Math.max(1, (now - from) / 1000), 3),
    p50Ms: q(0.5),
    p95Ms: q(0.95),
    p99Ms: q(0.99),
  };
}

function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
