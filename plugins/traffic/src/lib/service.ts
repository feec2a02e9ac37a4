import type { Entity } from '@backstage/catalog-model';
import { ANNOTATION, entityRef } from '@bank/catalog/model';
import { type GraphIndex, mergeObserved, type ObservedEdgeInput } from '@bank/graph';
import type { DecodedBatch } from './spans.ts';
import { TrafficStore } from './store.ts';
import {
  DEFAULT_LIMITS,
  type EdgeHealth,
  type EdgeState,
  type EdgeType,
  healthOf,
  type IngestResult,
  type TrafficCounters,
  type TrafficLimits,
  TrafficState,
  type WindowName,
} from './traffic.ts';

/** Namespace of the placeholder refs given to services the catalogue does not know. */
export const UNKNOWN_NAMESPACE = 'unknown';

/**
 * Maps the names spans use (`service.name`, `peer.service`) to catalogue refs: the bank's
 * `bank.io/service-id` annotation first, else the entity's name (components, then resources). A name the
 * catalogue does not know becomes `component:unknown/<name>`, a flagged placeholder node in the graph.
 */
export class ServiceResolver {
  private byName = new Map<string, string>();

  constructor(entities: readonly Entity[] = []) {
    const byServiceId = new Map<string, string>();
    const byEntityName = new Map<string, string>();
    for (const e of entities) {
      const kind = e.kind.toLowerCase();
      if (kind !== 'component' && kind !== 'resource') continue;
      const ref = entityRef(e);
      const id = e.metadata.annotations?.[ANNOTATION.serviceId];
      if (id && !byServiceId.has(id)) byServiceId.set(id, ref);
      const name = e.metadata.name.toLowerCase();
      const had = byEntityName.get(name);
      // A component wins over a resource of the same name.
      if (!had || (kind === 'component' && had.startsWith('resource:'))) byEntityName.set(name, ref);
    }
    for (const [name, ref] of byEntityName) this.byName.set(name, ref);
    for (const [id, ref] of byServiceId) this.byName.set(id, ref);
  }

  /** The catalogue ref of a span's service name, or undefined. */
  known(name: string): string | undefined {
    return this.byName.get(name) ?? this.byName.get(name.toLowerCase());
  }

  /** Every name already resolved, known or placeholder: one lookup per name on the hot path. */
  private refs = new Map<string, string>();

  /** The ref to draw: the catalogue's, else a placeholder in the `unknown` namespace. */
  ref(name: string): string {
    let ref = this.refs.get(name);
    if (ref === undefined) {
      ref = this.known(name) ?? `component:${UNKNOWN_NAMESPACE}/${placeholderName(name)}`;
      // Bounded by the names the traffic state admits (catalogue names plus the unknown-name cap).
      this.refs.set(name, ref);
    }
    return ref;
  }
}

/** A name that fits a ref: lower case, [a-z0-9_.-], starting with a letter or digit, at most 63 characters. */
export function placeholderName(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 63);
  return s === '' ? 'unnamed' : s;
}

export interface ObservedEdge {
  from: string;
  to: string;
  /** The names the spans used. */
  caller: string;
  callee: string;
  type: EdgeType;
  virtual: boolean;
  /** The callee (or caller) is not in the catalogue. */
  unknown: boolean;
  requests: number;
  errors: number;
  firstSeen: string;
  lastSeen: string;
  health: Record<WindowName, EdgeHealth>;
}

export interface TrafficServiceOptions {
  /** The store's URL (the catalogue's database); without one nothing is kept across restarts. */
  storeUrl?: string;
  limits?: Partial<TrafficLimits>;
  now?: () => number;
  /** How often waiting spans are checked for expiry and a checkpoint is considered (0: never by timer). */
  expireEveryMs?: number;
  /** How often the aggregates are written and the journal emptied (default 5000 ms). */
  checkpointEveryMs?: number;
}

/** What a batch did, as the receiver reports it. */
export interface AcceptResult {
  accepted: number;
  rejected: number;
  messages: string[];
}

/**
 * Observed traffic: accepts decoded spans, pairs them into edges, stores the figures before answering, and
 * keeps the graph's observed edges in step.
 */
export class TrafficService {
  readonly state: TrafficState;
  private store: TrafficStore | undefined;
  /** The catalogue's names, made when first needed from the entities setCatalogue was given last. */
  private resolverMade: ServiceResolver | undefined = new ServiceResolver();
  private catalogue: readonly Entity[] | undefined;
  private get resolver(): ServiceResolver {
    if (!this.resolverMade) {
      this.resolverMade = new ServiceResolver(this.catalogue ?? []);
      this.catalogue = undefined;
    }
    return this.resolverMade;
  }
  private timer: NodeJS.Timeout | undefined;
  private listeners: Array<(edges: EdgeState[]) => void> = [];
  readonly now: () => number;
  /** Requests accepted since start, by encoding. */
  readonly received = { protobuf: 0, json: 0, jaeger: 0 };
  /** When this portal began receiving traces (the earliest service seen). */
  observingSinceMs: number | undefined;

  constructor(private readonly opts: TrafficServiceOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.state = new TrafficState(
      { ...DEFAULT_LIMITS, ...opts.limits, keep: { ...DEFAULT_LIMITS.keep, ...opts.limits?.keep } },
      (name) => this.resolver.known(name) !== undefined,
    );
  }

  static async open(opts: TrafficServiceOptions): Promise<TrafficService> {
    const service = new TrafficService(opts);
    if (opts.storeUrl) {
      service.store = new TrafficStore(opts.storeUrl);
      const loaded = await service.store.load();
      service.state.load(loaded.edges, loaded.services);
      // What was answered after the last checkpoint, before a crash or a stop.
      service.state.replay(loaded.journal);
      for (const s of service.state.services.values())
        if (service.observingSinceMs === undefined || s.firstSeenMs < service.observingSinceMs)
          service.observingSinceMs = s.firstSeenMs;
    }
    const every = opts.expireEveryMs ?? 1000;
    if (every > 0) {
      service.timer = setInterval(() => void service.tick().catch(() => undefined), every);
      service.timer.unref();
    }
    return service;
  }

  /** The catalogue changed: names are resolved again. */
  setCatalogue(entities: readonly Entity[]): void {
    // Made on first use (a span, an observed edge to merge): at 35,000 services it is 0.3 s that a portal
    // receiving no traces yet need not spend at start.
    this.catalogue = entities;
    this.resolverMade = undefined;
  }

  get resolve(): ServiceResolver {
    return this.resolver;
  }

  /** Called with the edges each accepted batch changed (after they are stored). */
  onEdges(fn: (edges: EdgeState[]) => void): void {
    this.listeners.push(fn);
  }

  /** Takes in one decoded request; resolves when what it accepted is stored. */
  async accept(batch: DecodedBatch): Promise<AcceptResult> {
    const now = this.now();
    const result: IngestResult = this.state.ingest(batch.spans, now);
    if (this.observingSinceMs === undefined && result.spans > 0) this.observingSinceMs = now;
    await this.store?.append(this.state, now);
    this.emit(result.touched);
    const messages = batch.reasons.map((r) => `${r.where}: ${r.why}`);
    if (result.refusedUnknown > 0) {
      messages.push(
        `${result.refusedUnknown} span(s) refused: the portal already tracks ${this.state.limits.maxUnknownServices} service names that are not in the catalogue (e.g. ${result.refusedUnknownNames.join(', ')}); add them to the catalogue or raise TRAFFIC_MAX_UNKNOWN_SERVICES`,
      );
    }
    if (batch.rejected > batch.reasons.length)
      messages.push(`… and ${batch.rejected - batch.reasons.length} more refused span(s)`);
    return {
      accepted: result.spans,
      rejected: batch.rejected + result.refusedUnknown,
      messages,
    };
  }

  /** Expires waiting spans whose time is up (virtual edges appear without new traffic). */
  async tick(): Promise<void> {
    const now = this.now();
    const touched = this.state.expire(now);
    if (touched.length > 0) {
      await this.store?.append(this.state, now);
      this.emit(touched);
    }
    if (this.store && now - this.lastCheckpointMs >= (this.opts.checkpointEveryMs ?? 5000)) {
      this.lastCheckpointMs = now;
      await this.store.checkpoint(this.state, now);
    }
  }

  private lastCheckpointMs = 0;

  private emit(edges: EdgeState[]): void {
    if (edges.length === 0) return;
    for (const fn of this.listeners) fn(edges);
  }

  /**
   * Observed edges, resolved to catalogue refs, with their figures per window; `keep(from, to)` picks which
   * before their figures are computed (each merges a window's sketches: the whole list is costly to describe).
   */
  edges(keep?: (from: string, to: string) => boolean): ObservedEdge[] {
    const now = this.now();
    const out: ObservedEdge[] = [];
    for (const e of this.state.edges.values())
      if (!keep || keep(this.resolver.ref(e.caller), this.resolver.ref(e.callee)))
        out.push(this.describe(e, now));
    return out;
  }

  describe(e: EdgeState, now = this.now()): ObservedEdge {
    const from = this.resolver.ref(e.caller);
    const to = this.resolver.ref(e.callee);
    return {
      from,
      to,
      caller: e.caller,
      callee: e.callee,
      type: e.type,
      virtual: e.virtual,
      unknown:
        from.startsWith(`component:${UNKNOWN_NAMESPACE}/`) ||
        to.startsWith(`component:${UNKNOWN_NAMESPACE}/`),
      requests: e.requests,
      errors: e.errors,
      firstSeen: new Date(e.firstSeenMs).toISOString(),
      lastSeen: new Date(e.lastSeenMs).toISOString(),
      health: {
        '1m': healthOf(e, '1m', now),
        '1h': healthOf(e, '1h', now),
        '1d': healthOf(e, '1d', now),
      },
    };
  }

  /** Observed edges as the graph takes them: one per caller/callee pair, summed over the edge types. */
  graphEdges(edges: Iterable<EdgeState> = this.state.edges.values()): ObservedEdgeInput[] {
    // Summed in milliseconds; the ISO strings are made once per pair, not twice per edge.
    const byPair = new Map<
      string,
      { from: string; to: string; count: number; first: number; last: number }
    >();
    for (const e of edges) {
      const from = this.resolver.ref(e.caller);
      const to = this.resolver.ref(e.callee);
      if (from === to) continue;
      const key = `${from}\n${to}`;
      const had = byPair.get(key);
      if (!had) byPair.set(key, { from, to, count: e.requests, first: e.firstSeenMs, last: e.lastSeenMs });
      else {
        had.count += e.requests;
        if (e.firstSeenMs < had.first) had.first = e.firstSeenMs;
        if (e.lastSeenMs > had.last) had.last = e.lastSeenMs;
      }
    }
    const out: ObservedEdgeInput[] = [];
    for (const p of byPair.values())
      out.push({
        from: p.from,
        to: p.to,
        count: p.count,
        firstSeen: new Date(p.first).toISOString(),
        lastSeen: new Date(p.last).toISOString(),
      });
    return out;
  }

  /** Puts every observed edge into `index` (replacing its observed marks): after a rebuild or a catalogue change. */
  syncGraph(index: GraphIndex): void {
    mergeObserved(index, this.graphEdges(), { replace: true });
  }

  /** Adds the edges a batch changed to `index`. */
  mergeIntoGraph(index: GraphIndex, edges: EdgeState[]): void {
    mergeObserved(index, this.graphEdgesOf(edges));
  }

  /** The graph edges of the pairs `edges` touch, each summed over all its types (not only the touched one). */
  private graphEdgesOf(edges: EdgeState[]): ObservedEdgeInput[] {
    const pairs = new Set<EdgeState>();
    for (const e of edges) for (const same of this.state.samePair(e)) pairs.add(same);
    return this.graphEdges(pairs);
  }

  counters(): TrafficCounters & { waiting: number; unknownServices: number; edges: number } {
    return {
      ...this.state.counters,
      waiting: this.state.waiting,
      unknownServices: this.state.unknown.size,
      edges: this.state.edges.size,
    };
  }

  /** Unknown service names (bounded), for the "unknown" flag in the UI and API. */
  unknownServices(): string[] {
    return [...this.state.unknown].sort();
  }

  /**
   * Stops without settling what waits or writing a checkpoint: what a crash leaves behind (tests use it to
   * show that the journal alone keeps every answered batch).
   */
  async abandon(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.store?.close();
  }

  /** Settles what waits, stores everything, stops the timer. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    const touched = this.state.settleAll(this.now());
    await this.store?.checkpoint(this.state, this.now());
    this.emit(touched);
    await this.store?.close();
  }
}
