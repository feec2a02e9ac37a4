import { viaMask } from './call-graph.ts';
import { attributesOf } from './card.ts';
import { GraphQueryError } from './errors.ts';
import type { GraphIndex } from './graph-index.ts';
import { type CallCards, callCards, cardOf } from './internal/call-cards.ts';
import { intOption, oneOf, VIAS } from './internal/options.ts';
import { compareStrings, isCallable } from './internal/ref.ts';
import { resolveRef } from './resolve.ts';
import type { NodeCard, Via } from './types.ts';

export const IMPACT_LIMITS = { depth: { min: 1, max: 50 } } as const;

export interface ImpactOptions {
  /** How many hops upstream to follow, 1–50 (default: all). */
  depth?: number;
  via?: Via;
}

export interface Dependent extends NodeCard {
  /** Hops from the impacted node (1 = calls it directly). */
  depth: number;
  /** The next hop towards the impacted node on one shortest route (smallest ref). */
  through: string;
}

export interface ImpactRollup {
  /** Group ref, or null for dependents without an owner (or without a collective). */
  ref: string | null;
  services: number;
  byTier: Record<string, number>;
  /** Smallest depth among its dependents. */
  nearest: number;
}

export interface ImpactResult {
  ref: string;
  /** The call nodes the blast starts from: the ref itself, or what a group owns / an API's providers / a system's parts. */
  origins: string[];
  depth: number | null;
  via: Via;
  total: number;
  /** Tier 1 first (unknown tier last), then nearest first, then by ref. */
  dependents: Dependent[];
  bySquad: ImpactRollup[];
  byCollective: ImpactRollup[];
}

/** The blast radius of `ref`: every transitive caller, with depth, owner and tier, rolled up to teams. */
export function impact(index: GraphIndex, ref: string, options: ImpactOptions = {}): ImpactResult {
  const depthLimit =
    options.depth === undefined
      ? null
      : intOption('impact', 'depth', options.depth, IMPACT_LIMITS.depth.min, IMPACT_LIMITS.depth.max, 1);
  const via = oneOf('impact', 'via', options.via, VIAS, 'any');
  const target = resolveRef(index, ref, { fn: 'impact', field: 'ref' });
  const origins = originsOf(index, target);
  const scratch = takeScratch(index.calls.capacity);
  const order: number[] = [];
  try {
    return blast(index, target, origins, depthLimit, via, scratch, order);
  } finally {
    for (const id of order) scratch.dist[id] = -1;
    spare = scratch;
  }
}

/**
 * Arrays over ids that impact queries reuse, as paths does (see PathsScratch in paths.ts): allocating
 * them per query at the graph's capacity costs page faults and a fill proportional to the graph. `dist` is
 * -1 everywhere between queries (a query resets the ids it reached); `through` and `byRank` are written
 * before they are read.
 */
interface ImpactScratch {
  dist: Int32Array;
  through: Int32Array;
  byRank: Int32Array;
}

/** The scratch between queries (null while a query holds it). */
let spare: ImpactScratch | null = null;

function takeScratch(capacity: number): ImpactScratch {
  const scratch = spare;
  spare = null;
  if (scratch !== null && scratch.dist.length >= capacity) return scratch;
  const n = capacity + (capacity >> 3) + 16;
  return { dist: new Int32Array(n).fill(-1), through: new Int32Array(n), byRank: new Int32Array(n) };
}

/** The breadth-first search and the answer of {@link impact}; every id it reaches goes into `order`. */
function blast(
  index: GraphIndex,
  target: string,
  origins: string[],
  depthLimit: number | null,
  via: Via,
  scratch: ImpactScratch,
  order: number[],
): ImpactResult {
  const adjacency = index.calls;
  const mask = viaMask(via);
  const limit = depthLimit ?? Number.MAX_SAFE_INTEGER;
  const { dist, through, byRank } = scratch;
  for (const origin of origins) {
    const id = adjacency.ids.get(origin);
    if (id !== undefined && dist[id] === -1) {
      dist[id] = 0;
      order.push(id);
    }
  }
  const starts = order.length;
  // Over the flat reverse adjacency: callers are visited in ref order, so `through` is the smallest ref.
  const { offsets, sources, masks } = adjacency.reverse();
  for (let head = 0; head < order.length; head++) {
    const u = order[head];
    const next = dist[u] + 1;
    if (next > limit) continue;
    const end = offsets[u + 1];
    for (let i = offsets[u]; i < end; i++) {
      const w = sources[i];
      if ((masks[i] & mask) === 0 || dist[w] !== -1) continue;
      dist[w] = next;
      through[w] = u;
      order.push(w);
    }
  }

  // Built field by field from each node's cached card (object spread is several times slower, and a hub
  // has thousands of dependents).
  const cache = callCards(index);
  const dependents: Dependent[] = [];
  const ranks = adjacency.refRanks();
  if (ranks.length >= 4_194_304)
    throw new Error('impact: more than 4 million call nodes; widen the sort key');
  const n = order.length - starts;
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const id = order[starts + i];
    const card = cardOf(cache, index, id);
    const dependent: Dependent = {
      ref: card.ref,
      kind: card.kind,
      name: card.name,
      title: card.title,
      owner: card.owner,
      collective: card.collective,
      tier: card.tier,
      oncall: card.oncall,
      runbook: card.runbook,
      slack: card.slack,
      depth: dist[id],
      through: adjacency.refs[through[id]],
    };
    if (card.missing) dependent.missing = true;
    dependents.push(dependent);
    // Sort by one number per dependent, (tier, depth, rank of its ref), in a typed array: comparing
    // objects and strings dominated this query.
    const rank = ranks[id];
    byRank[rank] = i;
    keys[i] = ((card.tier ?? 99) * 1024 + Math.min(dist[id], 1023)) * 4_194_304 + rank;
  }
  keys.sort();
  const sorted: Dependent[] = new Array(n);
  const sortedIds = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const d = byRank[keys[i] % 4_194_304];
    sorted[i] = dependents[d];
    sortedIds[i] = order[starts + d];
  }
  return {
    ref: target,
    origins,
    depth: depthLimit,
    via,
    total: sorted.length,
    dependents: sorted,
    bySquad: rollup(cache, cache.squad, sortedIds, dist),
    byCollective: rollup(cache, cache.collective, sortedIds, dist),
  };
}

function originsOf(index: GraphIndex, target: string): string[] {
  const kind = attributesOf(index, target).kind;
  if (isCallable(kind) || index.calls.hasNode(target)) return [target];
  const wanted =
    kind === 'group' ? 'ownedBy' : kind === 'api' ? 'providesApi' : kind === 'system' ? 'partOf' : null;
  if (!wanted) {
    throw new GraphQueryError(
      `impact: ${target} is ${kind === 'api' ? 'an API' : `a ${kind}`}; impact works on components, resources, groups (what they own), APIs (their providers) and systems (their parts)`,
      { field: 'ref', ref: target },
    );
  }
  const origins: string[] = [];
  index.relations.forEachInEdge(target, (_e, relation, source) => {
    if (relation.types.includes(wanted) && index.calls.hasNode(source)) origins.push(source);
  });
  return [...new Set(origins)].sort();
}

/** Tier columns counted per slot: tiers 0–9, then unknown (null or out of range). */
const TIER_COLUMNS = 11;
const TIER_KEYS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'unknown'];

/**
 * Counts dependents per group (slot) in typed arrays. `ids` are in the dependents' order, so byTier keys
 * come out in ascending tier, then unknown, as before.
 */
function rollup(cache: CallCards, slotOfId: Int32Array, ids: Int32Array, dist: Int32Array): ImpactRollup[] {
  const slots = cache.slotRefs.length;
  const services = new Int32Array(slots);
  const nearest = new Int32Array(slots).fill(0x7fffffff);
  const byTier = new Int32Array(slots * TIER_COLUMNS);
  const seen: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    const slot = slotOfId[id];
    if (services[slot]++ === 0) seen.push(slot);
    byTier[slot * TIER_COLUMNS + cache.tierColumn[id]]++;
    if (dist[id] < nearest[slot]) nearest[slot] = dist[id];
  }
  const groups: ImpactRollup[] = seen.map((slot) => {
    const tiers: Record<string, number> = {};
    for (let c = 0; c < TIER_COLUMNS; c++) {
      const count = byTier[slot * TIER_COLUMNS + c];
      if (count > 0) tiers[TIER_KEYS[c]] = count;
    }
    return { ref: cache.slotRefs[slot], services: services[slot], byTier: tiers, nearest: nearest[slot] };
  });
  return groups.sort(
    (a, b) =>
      (b.byTier['1'] ?? 0) - (a.byTier['1'] ?? 0) ||
      b.services - a.services ||
      compareStrings(a.ref ?? '~', b.ref ?? '~'),
  );
}
