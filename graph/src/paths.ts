import { type CallGraph, type ReverseAdjacency, viaMask } from './call-graph.ts';
import { callEdge, nodeCard } from './card.ts';
import { GraphQueryError, UnknownRefError } from './errors.ts';
import type { GraphIndex } from './graph-index.ts';
import { intOption, oneOf, VIAS } from './internal/options.ts';
import { isCallable, splitRef } from './internal/ref.ts';
import { bfsDistances } from './internal/search.ts';
import { resolveRef } from './resolve.ts';
import type { CallEdge, NodeCard, Via } from './types.ts';

export const PATHS_LIMITS = {
  k: { min: 1, max: 50, default: 5 },
  maxHops: { min: 1, max: 15, default: 8 },
} as const;

export interface PathsOptions {
  /** How many paths, 1–50 (default 5). */
  k?: number;
  /** Longest path in hops (edges), 1–15 (default 8). */
  maxHops?: number;
  /** Which call edges to walk (default any). */
  via?: Via;
}

export interface CallPath {
  /** Number of edges. */
  length: number;
  hops: NodeCard[];
  edges: CallEdge[];
}

/** Why no path was found: which side is cut off. */
export interface PathsUnreachable {
  /**
   * `from`: `from` calls nothing (over `via`); `to`: nothing calls `to`; `between`: both sides have edges
   * but never meet; `maxHops`: a path exists but is longer than maxHops (`shortestHops` says how long).
   */
  cutOff: 'from' | 'to' | 'between' | 'maxHops';
  shortestHops?: number;
  /** What `from` reaches (any distance), nearest first: a count and up to 10 refs. */
  fromReaches: { count: number; sample: string[] };
  /** What reaches `to` (any distance), nearest first. */
  reachesTo: { count: number; sample: string[] };
  message: string;
}

export interface PathsResult {
  from: string;
  to: string;
  k: number;
  maxHops: number;
  via: Via;
  paths: CallPath[];
  unreachable?: PathsUnreachable;
}

/**
 * The k shortest simple call paths from `from` to `to` (Yen's algorithm), shortest first; paths of equal
 * length are ordered by their ref sequences (lexicographically), so the answer is stable.
 */
export function paths(index: GraphIndex, from: string, to: string, options: PathsOptions = {}): PathsResult {
  const k = intOption(
    'paths',
    'k',
    options.k,
    PATHS_LIMITS.k.min,
    PATHS_LIMITS.k.max,
    PATHS_LIMITS.k.default,
  );
  const maxHops = intOption(
    'paths',
    'maxHops',
    options.maxHops,
    PATHS_LIMITS.maxHops.min,
    PATHS_LIMITS.maxHops.max,
    PATHS_LIMITS.maxHops.default,
  );
  const via = oneOf('paths', 'via', options.via, VIAS, 'any');
  const src = resolveCallNode(index, from, 'from');
  const dst = resolveCallNode(index, to, 'to');
  if (src === dst) {
    throw new GraphQueryError(`paths: from and to are the same (${src}); ask for two different services`, {
      field: 'to',
      from: src,
      to: dst,
    });
  }
  const result: PathsResult = { from: src, to: dst, k, maxHops, via, paths: [] };
  const adjacency = index.calls;
  const s = adjacency.ids.get(src);
  const t = adjacency.ids.get(dst);
  const mask = viaMask(via);
  const found = s === undefined || t === undefined ? [] : kShortestPaths(adjacency, s, t, k, maxHops, mask);
  result.paths = found.map((ids) => {
    const refs = ids.map((id) => adjacency.refs[id]);
    const edges: CallEdge[] = [];
    for (let i = 1; i < refs.length; i++) edges.push(callEdge(index, refs[i - 1], refs[i]));
    return { length: refs.length - 1, hops: refs.map((ref) => nodeCard(index, ref)), edges };
  });
  if (result.paths.length === 0) result.unreachable = diagnose(adjacency, src, dst, s, t, mask, maxHops);
  return result;
}

/**
 * A ref paths can start or end at: a component or resource. A short name shared with a group or API
 * resolves to the component; an entity of another kind is refused with what would work instead.
 */
function resolveCallNode(index: GraphIndex, input: string, field: 'from' | 'to'): string {
  const accept = (ref: string) => isCallable(splitRef(ref).kind) || index.calls.hasNode(ref);
  try {
    return resolveRef(index, input, { fn: 'paths', field, accept });
  } catch (err) {
    if (!(err instanceof UnknownRefError)) throw err;
    let other: string;
    try {
      other = resolveRef(index, input, { fn: 'paths', field });
    } catch {
      throw err;
    }
    const kind = splitRef(other).kind;
    const providers = kind === 'api' ? [...(index.apiProviders.get(other) ?? [])].sort() : [];
    const hint = providers.length > 0 ? `; its providers: ${providers.join(', ')}` : '';
    throw new GraphQueryError(
      `paths: ${other} is ${kind === 'api' ? 'an API' : `a ${kind}`}; paths run between components and resources (${field})${hint}`,
      { field, ref: other, kind, suggestions: providers },
    );
  }
}

/** Compares two id paths by length, then ref by ref. */
function comparePaths(refs: string[], a: number[], b: number[]): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return refs[a[i]] < refs[b[i]] ? -1 : 1;
  }
  return 0;
}

/**
 * Yen's k shortest simple paths over id adjacency. Spur searches are breadth-first (adjacency sorted by
 * ref, so the first path found is the smallest of the shortest) and pruned by the distance to `t`
 * computed once over the whole graph: removing root nodes and edges only lengthens distances, so a node
 * whose depth plus that distance exceeds the budget can never be on the spur path.
 */
export function kShortestPaths(
  adjacency: CallGraph,
  s: number,
  t: number,
  k: number,
  maxHops: number,
  mask: number,
): number[][] {
  const scratch = takeScratch(adjacency.capacity);
  const toT = new ReverseLevels(adjacency, t, mask, maxHops, scratch.dist, scratch.order);
  try {
    return yen(adjacency, s, t, k, maxHops, mask, toT, scratch);
  } finally {
    toT.release();
    spare = scratch;
  }
}

/**
 * Arrays over ids that paths queries reuse. Allocating them per query at the graph's capacity (~64,000
 * ids at 35,000 services, 256 KB each) cost more than the search: the allocator returned freshly mapped
 * pages to fault in (~150 page faults a query) and zeroing or filling all of them is proportional to the
 * graph, not to the search. `seen` and `blocked` hold stamps, each larger than any before, so they need no
 * clearing; `parent` is written before it is read; `dist` is -1 everywhere between queries
 * ({@link ReverseLevels.release} resets what a query set).
 */
interface PathsScratch {
  seen: Int32Array;
  blocked: Int32Array;
  parent: Int32Array;
  dist: Int32Array;
  /** The ids ReverseLevels has given a distance, in BFS order. */
  order: Int32Array;
  /** The last stamp given out in `seen` and `blocked`. */
  stamp: number;
}

/** The scratch between queries (null while a query holds it). */
let spare: PathsScratch | null = null;

/** Stamps restart from 0 (clearing `seen` and `blocked`) past this; a query uses far fewer than 2^30. */
const STAMP_LIMIT = 2 ** 30;

function takeScratch(capacity: number): PathsScratch {
  let scratch = spare;
  spare = null;
  if (scratch === null || scratch.seen.length < capacity) {
    // Some room to grow, so that a graph gaining nodes one by one does not reallocate on every query.
    const n = capacity + (capacity >> 3) + 16;
    scratch = {
      seen: new Int32Array(n),
      blocked: new Int32Array(n),
      parent: new Int32Array(n),
      dist: new Int32Array(n).fill(-1),
      order: new Int32Array(n),
      stamp: 0,
    };
  } else if (scratch.stamp > STAMP_LIMIT) {
    scratch.seen.fill(0);
    scratch.blocked.fill(0);
    scratch.stamp = 0;
  }
  return scratch;
}

/** Yen's algorithm for {@link kShortestPaths}, over scratch arrays it holds until it returns. */
function yen(
  adjacency: CallGraph,
  s: number,
  t: number,
  k: number,
  maxHops: number,
  mask: number,
  toT: ReverseLevels,
  scratch: PathsScratch,
): number[][] {
  const refs = adjacency.refs;
  toT.ensure(maxHops, s);
  if (toT.lowerBound(s) < 0 || toT.lowerBound(s) > maxHops) return [];
  const { blocked, seen, parent } = scratch;
  let blockedStamp = -1;
  // Stamps continue from the last query's (see PathsScratch), kept in scratch.stamp as they are given out.
  const nextStamp = () => ++scratch.stamp;

  const spurPath = (spur: number, blockedNext: Set<number>, budget: number): number[] | null => {
    let lower = toT.lowerBound(spur);
    if (lower < 0 || lower > budget) return null;
    for (let bound = lower; bound <= budget; bound++) {
      // Exact distances up to bound - 1: any node still unknown is at least `bound` away, so pruned.
      toT.ensure(bound - 1);
      lower = toT.lowerBound(spur);
      if (lower < 0 || lower > budget) return null;
      if (lower > bound) {
        bound = lower - 1;
        continue;
      }
      const stamp = nextStamp();
      seen[spur] = stamp;
      parent[spur] = -1;
      let level = [spur];
      for (let depth = 0; depth < bound && level.length > 0; depth++) {
        const next: number[] = [];
        for (const u of level) {
          const list = adjacency.out[u];
          const masks = adjacency.outMask[u];
          for (let i = 0; i < list.length; i++) {
            const w = list[i];
            if ((masks[i] & mask) === 0 || seen[w] === stamp || blocked[w] === blockedStamp) continue;
            if (u === spur && blockedNext.has(w)) continue;
            const rest = toT.lowerBound(w);
            if (rest < 0 || depth + 1 + rest > bound) continue;
            seen[w] = stamp;
            parent[w] = u;
            if (w === t) {
              const path = [t];
              for (let v = u; v !== -1; v = parent[v]) path.push(v);
              return path.reverse();
            }
            next.push(w);
          }
        }
        level = next;
      }
    }
    return null;
  };

  const first = spurPath(s, new Set(), maxHops);
  if (!first) return [];
  const chosen: number[][] = [first];
  const candidates: number[][] = [];
  /**
   * The longest a new candidate may be and still make the top k: once there are enough candidates,
   * anything longer than the one that would be k-th can never be chosen (equal length may, by its refs).
   */
  const usefulLength = (): number => {
    const need = k - chosen.length;
    if (candidates.length < need) return maxHops;
    const lengths = candidates.map((c) => c.length - 1).sort((a, b) => a - b);
    return lengths[need - 1];
  };
  const known = new Set<string>([first.join(',')]);
  while (chosen.length < k) {
    const previous = chosen[chosen.length - 1];
    for (let i = 0; i < previous.length - 1; i++) {
      const spur = previous[i];
      const budget = Math.min(maxHops, usefulLength()) - i;
      if (budget < 0) break;
      blockedStamp = nextStamp();
      for (let j = 0; j < i; j++) blocked[previous[j]] = blockedStamp;
      const blockedNext = new Set<number>();
      for (const p of chosen) {
        if (p.length <= i + 1) continue;
        let same = true;
        for (let j = 0; j <= i && same; j++) same = p[j] === previous[j];
        if (same) blockedNext.add(p[i + 1]);
      }
      const spurPart = spurPath(spur, blockedNext, budget);
      if (!spurPart) continue;
      const candidate = previous.slice(0, i).concat(spurPart);
      const key = candidate.join(',');
      if (known.has(key)) continue;
      known.add(key);
      candidates.push(candidate);
    }
    if (candidates.length === 0) break;
    let best = 0;
    for (let c = 1; c < candidates.length; c++) {
      if (comparePaths(refs, candidates[c], candidates[best]) < 0) best = c;
    }
    chosen.push(candidates[best]);
    candidates[best] = candidates[candidates.length - 1];
    candidates.pop();
  }
  return chosen;
}

function diagnose(
  adjacency: CallGraph,
  src: string,
  dst: string,
  s: number | undefined,
  t: number | undefined,
  mask: number,
  maxHops: number,
): PathsUnreachable {
  const unlimited = Number.MAX_SAFE_INTEGER;
  const forward =
    s === undefined
      ? { dist: new Int32Array(0), order: [] }
      : bfsDistances(adjacency, s, 'out', mask, unlimited);
  const backward =
    t === undefined
      ? { dist: new Int32Array(0), order: [] }
      : bfsDistances(adjacency, t, 'inn', mask, unlimited);
  const sample = (order: number[]) => order.slice(1, 11).map((id) => adjacency.refs[id]);
  const fromReaches = { count: Math.max(0, forward.order.length - 1), sample: sample(forward.order) };
  const reachesTo = { count: Math.max(0, backward.order.length - 1), sample: sample(backward.order) };
  const shortest = t !== undefined && s !== undefined ? forward.dist[t] : -1;
  if (shortest > 0) {
    return {
      cutOff: 'maxHops',
      shortestHops: shortest,
      fromReaches,
      reachesTo,
      message: `the shortest path from ${src} to ${dst} has ${shortest} hops, more than maxHops=${maxHops}`,
    };
  }
  if (fromReaches.count === 0) {
    return { cutOff: 'from', fromReaches, reachesTo, message: `${src} calls nothing, so it reaches nothing` };
  }
  if (reachesTo.count === 0) {
    return { cutOff: 'to', fromReaches, reachesTo, message: `nothing calls ${dst}, so nothing reaches it` };
  }
  return {
    cutOff: 'between',
    fromReaches,
    reachesTo,
    message: `${src} reaches ${fromReaches.count} nodes and ${reachesTo.count} reach ${dst}, but the two sets never meet`,
  };
}

/**
 * Breadth-first distances to `t` over reversed call edges, computed level by level only as far as a
 * search needs them. Before level d is complete, an unknown node is at least d + 1 away: an admissible
 * bound that prunes as well as the exact distance once the levels up to the search's bound are known.
 *
 * Reads the flat reverse adjacency ({@link CallGraph.reverse}, made once after a change, as impact does):
 * this search visits tens of thousands of callers, and the per-node lists of an index that mergeObserved
 * has inserted into lie scattered over the heap (at 35,000 services with 10 % more edges, the lists cost
 * about 1.4 times what the same edges cost freshly built).
 */
class ReverseLevels {
  /** Callers by id, as flat arrays (see {@link CallGraph.reverse}). */
  private readonly reverse: ReverseAdjacency;
  /** Every node with a distance, level by level, in order[0 .. count); the frontier starts at frontierStart. */
  private count = 1;
  private frontierStart = 0;
  private depth = 0;
  private done = false;

  /** `dist` must be -1 everywhere; {@link release} makes it so again. `order` holds at least capacity ids. */
  constructor(
    graph: CallGraph,
    t: number,
    private readonly mask: number,
    private readonly limit: number,
    private readonly dist: Int32Array,
    private readonly order: Int32Array,
  ) {
    this.reverse = graph.reverse();
    this.dist[t] = 0;
    this.order[0] = t;
  }

  /** Completes levels up to `depth` (or until `until` is reached). */
  ensure(depth: number, until = -1): void {
    const { dist, order, mask } = this;
    const { offsets, sources, masks } = this.reverse;
    while (!this.done && this.depth < depth && (until < 0 || dist[until] < 0)) {
      const end = this.count;
      const next = this.depth + 1;
      let count = end;
      for (let head = this.frontierStart; head < end; head++) {
        const u = order[head];
        const last = offsets[u + 1];
        for (let i = offsets[u]; i < last; i++) {
          const w = sources[i];
          if ((masks[i] & mask) === 0 || dist[w] !== -1) continue;
          dist[w] = next;
          order[count++] = w;
        }
      }
      this.count = count;
      this.depth = next;
      this.frontierStart = end;
      if (count === end || next >= this.limit) this.done = true;
    }
  }

  /** Sets every distance this search set back to -1 (the array is reused by the next query). */
  release(): void {
    for (let i = 0; i < this.count; i++) this.dist[this.order[i]] = -1;
  }

  /** The exact distance when known; else a lower bound; -1 when `v` cannot reach `t` within the limit. */
  lowerBound(v: number): number {
    const d = this.dist[v];
    if (d >= 0) return d;
    return this.done ? -1 : this.depth + 1;
  }
}
