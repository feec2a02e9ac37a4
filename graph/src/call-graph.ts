import type { CallEdgeAttributes, Via } from './types.ts';

export const DECLARED = 1;
export const OBSERVED = 2;

export function viaMask(via: Via): number {
  return via === 'declared' ? DECLARED : via === 'observed' ? OBSERVED : DECLARED | OBSERVED;
}

export function maskOf(attributes: CallEdgeAttributes): number {
  return (attributes.kinds.length > 0 ? DECLARED : 0) | (attributes.observed ? OBSERVED : 0);
}

type EdgeCallback = (attributes: CallEdgeAttributes, source: string, target: string) => void;

/**
 * The call graph: components and resources, one edge per caller/callee pair with its kinds and sources.
 *
 * Kept as integer adjacency lists rather than a graphology graph. Path and impact searches run over
 * arrays instead of string-keyed maps, and a build at 35,000 services stays within seconds (graphology
 * keeps each node's neighbours as object properties keyed by ref, which costs ~20 µs per edge at that
 * size). Lists are sorted by ref, so a breadth-first search finds the lexicographically smallest of the
 * shortest paths: the stable tie order. Updated edge by edge, never rebuilt. The entity graph (nodes and
 * relations) is the graphology one; cycles() hands the trimmed call graph to graphology-components.
 */
/** In-edges in compressed sparse row form: the callers of id t are sources[offsets[t] .. offsets[t + 1]). */
export interface ReverseAdjacency {
  offsets: Int32Array;
  sources: Int32Array;
  masks: Uint8Array;
}

export class CallGraph {
  readonly ids = new Map<string, number>();
  /** ref by id; '' for a freed id. */
  readonly refs: string[] = [];
  readonly out: number[][] = [];
  readonly outMask: number[][] = [];
  readonly outAttributes: CallEdgeAttributes[][] = [];
  /** Callers by id, and their masks: made from the out-lists on first use after a restore (see restore). */
  get inn(): number[][] {
    if (this.innPending) this.makeInn();
    return this.innLists;
  }
  get innMask(): number[][] {
    if (this.innPending) this.makeInn();
    return this.innMasks;
  }
  private innLists: number[][] = [];
  private innMasks: number[][] = [];
  private innPending = false;
  private readonly free: number[] = [];
  private edgeCount = 0;
  /** Ids ranked by ref, computed when first asked for after nodes change. */
  private ranks: Int32Array | null = null;
  /** The in-edges as flat typed arrays (see {@link reverse}); dropped by any change. */
  private reverseCache: ReverseAdjacency | null = null;
  /** While set, new edges are appended unsorted (a fresh build); {@link endBulk} sorts once. */
  private bulk = false;

  /** Number of ids ever allocated: the size for per-query scratch arrays. */
  get capacity(): number {
    return this.refs.length;
  }

  /** Number of nodes. */
  get order(): number {
    return this.ids.size;
  }

  /** Number of edges. */
  get size(): number {
    return this.edgeCount;
  }

  hasNode(ref: string): boolean {
    return this.ids.has(ref);
  }

  nodes(): string[] {
    return [...this.ids.keys()];
  }

  degree(ref: string): number {
    const id = this.ids.get(ref);
    return id === undefined ? 0 : this.out[id].length + this.inn[id].length;
  }

  addNode(ref: string): number {
    const known = this.ids.get(ref);
    if (known !== undefined) return known;
    const id = this.free.pop() ?? this.refs.length;
    this.refs[id] = ref;
    this.out[id] = [];
    this.outMask[id] = [];
    this.outAttributes[id] = [];
    this.inn[id] = [];
    this.innMask[id] = [];
    this.ids.set(ref, id);
    this.ranks = null;
    this.reverseCache = null;
    return id;
  }

  /**
   * Each id's position in ref order (freed ids: -1). Cached until a node is added or dropped, so sorts
   * of many nodes by ref (impact of a hub) compare integers, not strings.
   */
  refRanks(): Int32Array {
    if (this.ranks && this.ranks.length === this.refs.length) return this.ranks;
    // The default sort (no comparator) orders strings by UTF-16 code units, like `<`, and is several
    // times faster than a comparator over ids.
    const sorted = [...this.ids.keys()].sort();
    const ranks = new Int32Array(this.refs.length).fill(-1);
    for (let rank = 0; rank < sorted.length; rank++) ranks[this.ids.get(sorted[rank]) as number] = rank;
    this.ranks = ranks;
    return ranks;
  }

  /** Forgets a node that has no edges left. */
  dropNode(ref: string): void {
    const id = this.ids.get(ref);
    if (id === undefined) return;
    if (this.out[id].length + this.inn[id].length > 0) throw new Error(`CallGraph: ${ref} still has edges`);
    this.ids.delete(ref);
    this.refs[id] = '';
    this.free.push(id);
    this.ranks = null;
    this.reverseCache = null;
  }

  /**
   * Starts a bulk load into an empty graph: each edge must be set at most once until {@link endBulk}, and
   * nothing may be read. Appending and sorting once avoids an insertion into a sorted list per edge,
   * which is quadratic for hubs with thousands of callers.
   */
  beginBulk(): void {
    if (this.edgeCount > 0) throw new Error('CallGraph: bulk load needs an empty graph');
    this.bulk = true;
  }

  endBulk(): void {
    if (!this.bulk) return;
    this.finishBulk();
    // Ready for the first query after a build: ref ranks and the flat reverse adjacency.
    this.refRanks();
    this.reverse();
  }

  private finishBulk(): void {
    this.bulk = false;
    this.reverseCache = null;
    const byRef = (a: number, b: number) =>
      this.refs[a] < this.refs[b] ? -1 : this.refs[a] > this.refs[b] ? 1 : 0;
    for (const id of this.ids.values()) {
      const out = this.out[id];
      if (out.length > 1) {
        const order = out.map((_, i) => i).sort((i, j) => byRef(out[i], out[j]));
        const masks = this.outMask[id];
        const attributes = this.outAttributes[id];
        this.out[id] = order.map((i) => out[i]);
        this.outMask[id] = order.map((i) => masks[i]);
        this.outAttributes[id] = order.map((i) => attributes[i]);
      }
      const inn = this.inn[id];
      if (inn.length > 1) {
        const order = inn.map((_, i) => i).sort((i, j) => byRef(inn[i], inn[j]));
        const masks = this.innMask[id];
        this.inn[id] = order.map((i) => inn[i]);
        this.innMask[id] = order.map((i) => masks[i]);
      }
    }
  }

  /**
   * Fills an empty graph at once from a saved one (saved-index.ts): `refs` in ref order (id = position), and
   * the out-edges of id i as `targets[offsets[i] .. offsets[i + 1])` in ref order with their attributes.
   * The in-edges follow (visiting callers in ref order keeps them sorted), and so do ranks (the ids).
   */
  restore(
    refs: readonly string[],
    offsets: Int32Array,
    targets: Int32Array,
    attributesOf: (edge: number) => CallEdgeAttributes,
  ): void {
    if (this.ids.size > 0) throw new Error('CallGraph: restore needs an empty graph');
    const n = refs.length;
    for (let id = 0; id < n; id++) {
      const ref = refs[id];
      if (id > 0 && !(refs[id - 1] < ref)) throw new Error('CallGraph: restored refs must be sorted');
      this.refs.push(ref);
      this.ids.set(ref, id);
    }
    for (let id = 0; id < n; id++) {
      const out: number[] = [];
      const outMask: number[] = [];
      const outAttributes: CallEdgeAttributes[] = [];
      for (let e = offsets[id]; e < offsets[id + 1]; e++) {
        const attributes = attributesOf(e);
        out.push(targets[e]);
        outMask.push(maskOf(attributes));
        outAttributes.push(attributes);
      }
      this.out.push(out);
      this.outMask.push(outMask);
      this.outAttributes.push(outAttributes);
    }
    this.edgeCount = targets.length;
    // The callers' lists wait until something asks for them: `portal path` and a hub's impact (reverse())
    // mostly do not, and at 35,000 services they are two arrays per node.
    this.innPending = true;
    const ranks = new Int32Array(n);
    for (let id = 0; id < n; id++) ranks[id] = id;
    this.ranks = ranks;
    this.reverseCache = null;
  }

  /**
   * reverse() straight from the out-lists, for a graph as restore() left it (ids in ref order, so caller id
   * order is the lists' order): no per-node callers' arrays are made for a hub's impact.
   */
  private reverseFromOut(): ReverseAdjacency {
    const capacity = this.refs.length;
    const offsets = new Int32Array(capacity + 1);
    for (let id = 0; id < capacity; id++) for (const t of this.out[id]) offsets[t + 1]++;
    for (let id = 0; id < capacity; id++) offsets[id + 1] += offsets[id];
    const fill = offsets.slice(0, capacity);
    const sources = new Int32Array(offsets[capacity]);
    const masks = new Uint8Array(offsets[capacity]);
    for (let id = 0; id < capacity; id++) {
      const out = this.out[id];
      const outMask = this.outMask[id];
      for (let i = 0; i < out.length; i++) {
        const at = fill[out[i]]++;
        sources[at] = id;
        masks[at] = outMask[i];
      }
    }
    return { offsets, sources, masks };
  }

  /** The callers' lists from the out-lists, in caller id order (as restore and a build leave them). */
  private makeInn(): void {
    this.innPending = false;
    const n = this.refs.length;
    const lists: number[][] = [];
    const masks: number[][] = [];
    for (let id = 0; id < n; id++) {
      lists.push([]);
      masks.push([]);
    }
    for (let id = 0; id < n; id++) {
      const out = this.out[id];
      const outMask = this.outMask[id];
      for (let i = 0; i < out.length; i++) {
        lists[out[i]].push(id);
        masks[out[i]].push(outMask[i]);
      }
    }
    this.innLists = lists;
    this.innMasks = masks;
  }

  /**
   * The in-edges as flat typed arrays, built on first use after a change. A breadth-first search over
   * thousands of callers (impact of a hub) reads these instead of one small array per node.
   */
  reverse(): ReverseAdjacency {
    if (this.reverseCache) return this.reverseCache;
    if (this.innPending) {
      this.reverseCache = this.reverseFromOut();
      return this.reverseCache;
    }
    const capacity = this.refs.length;
    const offsets = new Int32Array(capacity + 1);
    for (let id = 0; id < capacity; id++) offsets[id + 1] = offsets[id] + (this.inn[id]?.length ?? 0);
    const sources = new Int32Array(offsets[capacity]);
    const masks = new Uint8Array(offsets[capacity]);
    for (let id = 0; id < capacity; id++) {
      const list = this.inn[id];
      if (!list) continue;
      const listMasks = this.innMask[id];
      const at = offsets[id];
      for (let i = 0; i < list.length; i++) {
        sources[at + i] = list[i];
        masks[at + i] = listMasks[i];
      }
    }
    this.reverseCache = { offsets, sources, masks };
    return this.reverseCache;
  }

  hasEdge(source: string, target: string): boolean {
    return this.getEdgeAttributes(source, target) !== undefined;
  }

  getEdgeAttributes(source: string, target: string): CallEdgeAttributes | undefined {
    const s = this.ids.get(source);
    const t = this.ids.get(target);
    if (s === undefined || t === undefined) return undefined;
    const list = this.out[s];
    const i = this.find(list, target);
    return i < list.length && list[i] === t ? this.outAttributes[s][i] : undefined;
  }

  /** Sets the edge's attributes (adding the edge and its nodes if needed); `null` removes the edge. */
  setEdge(source: string, target: string, attributes: CallEdgeAttributes | null): void {
    const s = this.addNode(source);
    const t = this.addNode(target);
    const mask = attributes ? maskOf(attributes) : 0;
    if (this.bulk) {
      if (!attributes || mask === 0) return;
      this.reverseCache = null;
      this.out[s].push(t);
      this.outMask[s].push(mask);
      this.outAttributes[s].push(attributes);
      this.inn[t].push(s);
      this.innMask[t].push(mask);
      this.edgeCount++;
      return;
    }
    const list = this.out[s];
    const i = this.find(list, target);
    const present = i < list.length && list[i] === t;
    const j = this.find(this.inn[t], source);
    if (!attributes || mask === 0) {
      if (!present) return;
      this.reverseCache = null;
      list.splice(i, 1);
      this.outMask[s].splice(i, 1);
      this.outAttributes[s].splice(i, 1);
      this.inn[t].splice(j, 1);
      this.innMask[t].splice(j, 1);
      this.edgeCount--;
    } else if (present) {
      // The same edge re-declared (a re-ingest) keeps the flat reverse adjacency.
      if (this.innMask[t][j] !== mask) this.reverseCache = null;
      this.outMask[s][i] = mask;
      this.outAttributes[s][i] = attributes;
      this.innMask[t][j] = mask;
    } else {
      this.reverseCache = null;
      list.splice(i, 0, t);
      this.outMask[s].splice(i, 0, mask);
      this.outAttributes[s].splice(i, 0, attributes);
      this.inn[t].splice(j, 0, s);
      this.innMask[t].splice(j, 0, mask);
      this.edgeCount++;
    }
  }

  forEachOutEdge(ref: string, callback: EdgeCallback): void {
    const s = this.ids.get(ref);
    if (s === undefined) return;
    // Callers may change the graph after iterating, not during: no copy.
    const list = this.out[s];
    const attributes = this.outAttributes[s];
    for (let i = 0; i < list.length; i++) callback(attributes[i], ref, this.refs[list[i]]);
  }

  forEachInEdge(ref: string, callback: EdgeCallback): void {
    const t = this.ids.get(ref);
    if (t === undefined) return;
    for (const s of this.inn[t]) {
      const source = this.refs[s];
      const attributes = this.getEdgeAttributes(source, ref);
      if (attributes) callback(attributes, source, ref);
    }
  }

  /**
   * Each neighbour of `ref` (its callees, or its callers) with the edge's mask ({@link DECLARED},
   * {@link OBSERVED}): no attribute lookup, so walking a hub's thousands of callers stays cheap.
   */
  forEachNeighbour(
    ref: string,
    direction: 'out' | 'in',
    callback: (other: string, mask: number) => void,
  ): void {
    const id = this.ids.get(ref);
    if (id === undefined) return;
    const list = direction === 'out' ? this.out[id] : this.inn[id];
    const masks = direction === 'out' ? this.outMask[id] : this.innMask[id];
    for (let i = 0; i < list.length; i++) callback(this.refs[list[i]], masks[i]);
  }

  forEachEdge(callback: EdgeCallback): void {
    for (const [ref, s] of this.ids) {
      const list = this.out[s];
      const attributes = this.outAttributes[s];
      for (let i = 0; i < list.length; i++) callback(attributes[i], ref, this.refs[list[i]]);
    }
  }

  private find(list: number[], ref: string): number {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.refs[list[mid]] < ref) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
