import { viaMask } from './call-graph.ts';
import { collectiveOf } from './card.ts';
import { GraphQueryError } from './errors.ts';
import type { GraphIndex } from './graph-index.ts';
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
  const adjacency = index.calls;
  const mask = viaMask(via);
  const limit = depthLimit ?? Number.MAX_SAFE_INTEGER;

  const dist = new Int32Array(adjacency.capacity).fill(-1);
  const through = new Int32Array(adjacency.capacity).fill(-1);
  const order: number[] = [];
  for (const origin of origins) {
    const id = adjacency.ids.get(origin);
    if (id !== undefined && dist[id] === -1) {
      dist[id] = 0;
      order.push(id);
    }
  }
  const starts = order.length;
  for (let head = 0; head < order.length; head++) {
    const u = order[head];
    if (dist[u] >= limit) continue;
    const list = adjacency.inn[u];
    const masks = adjacency.innMask[u];
    for (let i = 0; i < list.length; i++) {
      const w = list[i];
      if ((masks[i] & mask) === 0 || dist[w] !== -1) continue;
      dist[w] = dist[u] + 1;
      through[w] = u;
      order.push(w);
    }
  }

  // Built field by field (object spread is several times slower, and a hub has thousands of dependents);
  // the collective is looked up once per owner.
  const collectives = new Map<string, string | null>();
  const dependents: Dependent[] = [];
  for (let i = starts; i < order.length; i++) {
    const id = order[i];
    const ref = adjacency.refs[id];
    const a = index.relations.getNodeAttributes(ref);
    const owner = a.owner ?? null;
    let collective: string | null = null;
    if (owner !== null) {
      const known = collectives.get(owner);
      collective = known === undefined ? collectiveOf(index, owner) : known;
      if (known === undefined) collectives.set(owner, collective);
    }
    const dependent: Dependent = {
      ref,
      kind: a.kind,
      name: a.name,
      title: a.title ?? null,
      owner,
      collective,
      tier: a.tier ?? null,
      oncall: a.oncall ?? null,
      runbook: a.runbook ?? null,
      depth: dist[id],
      through: adjacency.refs[through[id]],
    };
    if (!a.present) dependent.missing = true;
    dependents.push(dependent);
  }
  // Sort by one number per dependent, (tier, depth, rank of its ref), in a typed array: a hub has
  // thousands of dependents, and comparing objects and strings dominated this query.
  const ranks = adjacency.refRanks();
  if (ranks.length >= 4_194_304)
    throw new Error('impact: more than 4 million call nodes; widen the sort key');
  const keys = new Float64Array(dependents.length);
  const byRank = new Int32Array(ranks.length);
  for (let i = 0; i < dependents.length; i++) {
    const d = dependents[i];
    const rank = ranks[order[starts + i]];
    byRank[rank] = i;
    keys[i] = ((d.tier ?? 99) * 1024 + Math.min(d.depth, 1023)) * 4_194_304 + rank;
  }
  keys.sort();
  const sorted: Dependent[] = new Array(dependents.length);
  for (let i = 0; i < keys.length; i++) sorted[i] = dependents[byRank[keys[i] % 4_194_304]];
  return {
    ref: target,
    origins,
    depth: depthLimit,
    via,
    total: sorted.length,
    dependents: sorted,
    bySquad: rollup(sorted, (d) => d.owner),
    byCollective: rollup(sorted, (d) => d.collective),
  };
}

function originsOf(index: GraphIndex, target: string): string[] {
  const kind = index.relations.getNodeAttribute(target, 'kind');
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

const TIER_KEYS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

function rollup(dependents: Dependent[], key: (d: Dependent) => string | null): ImpactRollup[] {
  const groups = new Map<string | null, ImpactRollup>();
  for (const d of dependents) {
    const k = key(d);
    let r = groups.get(k);
    if (!r) {
      r = { ref: k, services: 0, byTier: {}, nearest: d.depth };
      groups.set(k, r);
    }
    r.services++;
    const tier = d.tier === null ? 'unknown' : (TIER_KEYS[d.tier] ?? String(d.tier));
    r.byTier[tier] = (r.byTier[tier] ?? 0) + 1;
    r.nearest = Math.min(r.nearest, d.depth);
  }
  return [...groups.values()].sort(
    (a, b) =>
      (b.byTier['1'] ?? 0) - (a.byTier['1'] ?? 0) ||
      b.services - a.services ||
      compareStrings(a.ref ?? '~', b.ref ?? '~'),
  );
}
