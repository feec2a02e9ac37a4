import { collectiveOf } from './card.ts';
import type { GraphIndex } from './graph-index.ts';
import { oneOf, VIAS } from './internal/options.ts';
import { compareStrings } from './internal/ref.ts';
import type { Via } from './types.ts';

export interface TeamLoad {
  ref: string;
  name: string;
  title: string | null;
  /** spec.type: squad, collective, organization, … */
  type: string | null;
  collective: string | null;
  /** People in the group and the groups below it. */
  members: number;
  /** Components owned. */
  services: number;
  resources: number;
  /** Components owned, per tier ("1".."4", "unknown"). */
  byTier: Record<string, number>;
}

export interface CollectiveLoad extends Omit<TeamLoad, 'collective' | 'type'> {
  squads: number;
}

export interface Orphan {
  ref: string;
  kind: string;
  tier: number | null;
  owner: string | null;
  reason: 'no-owner' | 'owner-missing' | 'owner-without-members';
}

export interface TierInversion {
  from: string;
  fromTier: number;
  fromOwner: string | null;
  to: string;
  toTier: number;
  toOwner: string | null;
}

export interface Coupling {
  from: string;
  to: string;
  /** Call edges from services of `from` to services of `to`. */
  calls: number;
}

export interface OwnershipResult {
  via: Via;
  squads: TeamLoad[];
  collectives: CollectiveLoad[];
  orphans: Orphan[];
  tierInversions: TierInversion[];
  /** Squad → squad call edges, most first. */
  coupling: Coupling[];
  /** Collective → collective call edges, most first. */
  collectiveCoupling: Coupling[];
}

const OWNED_KINDS = new Set(['component', 'resource', 'api', 'system']);

/** Services per squad and collective, orphans, tier inversions and team-to-team coupling. */
export function ownership(index: GraphIndex, options: { via?: Via } = {}): OwnershipResult {
  const via = oneOf('ownership', 'via', options.via, VIAS, 'any');
  const g = index.relations;
  const memberMemo = new Map<string, Set<string>>();
  const membersOf = (group: string, depth = 0): Set<string> => {
    const memo = memberMemo.get(group);
    if (memo) return memo;
    const people = new Set<string>();
    memberMemo.set(group, people);
    g.forEachInEdge(group, (_e, a, source) => {
      if (a.types.includes('memberOf')) people.add(source);
      if (a.types.includes('childOf') && depth < 16)
        for (const p of membersOf(source, depth + 1)) people.add(p);
    });
    return people;
  };

  const teams = new Map<string, TeamLoad>();
  const team = (ref: string): TeamLoad => {
    let t = teams.get(ref);
    if (!t) {
      const a = g.getNodeAttributes(ref);
      t = {
        ref,
        name: a.name,
        title: a.title ?? null,
        type: a.type ?? null,
        collective: collectiveOf(index, ref),
        members: a.present ? membersOf(ref).size : 0,
        services: 0,
        resources: 0,
        byTier: {},
      };
      teams.set(ref, t);
    }
    return t;
  };
  g.forEachNode((ref, a) => {
    if (a.present && a.kind === 'group' && a.type !== 'collective' && a.type !== 'organization') team(ref);
  });

  const orphans: Orphan[] = [];
  g.forEachNode((ref, a) => {
    if (!a.present || !OWNED_KINDS.has(a.kind)) return;
    const owner = a.owner ?? null;
    const tier = a.tier ?? null;
    if (owner === null) {
      orphans.push({ ref, kind: a.kind, tier, owner, reason: 'no-owner' });
      return;
    }
    const ownerAttributes = g.getNodeAttributes(owner);
    if (!ownerAttributes.present) orphans.push({ ref, kind: a.kind, tier, owner, reason: 'owner-missing' });
    else if (ownerAttributes.kind === 'group' && membersOf(owner).size === 0) {
      orphans.push({ ref, kind: a.kind, tier, owner, reason: 'owner-without-members' });
    }
    if (!ownerAttributes.present || ownerAttributes.kind !== 'group') return;
    const t = team(owner);
    if (a.kind === 'component') {
      t.services++;
      const key = tier === null ? 'unknown' : String(tier);
      t.byTier[key] = (t.byTier[key] ?? 0) + 1;
    } else if (a.kind === 'resource') t.resources++;
  });

  const collectives = new Map<string, CollectiveLoad>();
  g.forEachNode((ref, a) => {
    if (!a.present || a.kind !== 'group' || a.type !== 'collective') return;
    collectives.set(ref, {
      ref,
      name: a.name,
      title: a.title ?? null,
      members: membersOf(ref).size,
      squads: 0,
      services: 0,
      resources: 0,
      byTier: {},
    });
  });
  for (const t of teams.values()) {
    const c = t.collective ? collectives.get(t.collective) : undefined;
    if (!c) continue;
    if (t.ref !== c.ref) c.squads++;
    c.services += t.services;
    c.resources += t.resources;
    for (const [tier, n] of Object.entries(t.byTier)) c.byTier[tier] = (c.byTier[tier] ?? 0) + n;
  }

  const tierInversions: TierInversion[] = [];
  const squadPairs = new Map<string, Coupling>();
  const collectivePairs = new Map<string, Coupling>();
  const count = (pairs: Map<string, Coupling>, from: string | null, to: string | null) => {
    if (from === null || to === null || from === to) return;
    const key = `${from}\n${to}`;
    const c = pairs.get(key);
    if (c) c.calls++;
    else pairs.set(key, { from, to, calls: 1 });
  };
  index.calls.forEachEdge((edge, src, dst) => {
    if (via !== 'any' && !edge.sources.includes(via)) return;
    const a = g.getNodeAttributes(src);
    const b = g.getNodeAttributes(dst);
    if (a.tier === 1 && b.tier !== undefined && b.tier >= 3) {
      tierInversions.push({
        from: src,
        fromTier: a.tier,
        fromOwner: a.owner ?? null,
        to: dst,
        toTier: b.tier,
        toOwner: b.owner ?? null,
      });
    }
    count(squadPairs, a.owner ?? null, b.owner ?? null);
    count(collectivePairs, collectiveOf(index, a.owner), collectiveOf(index, b.owner));
  });

  const byCalls = (x: Coupling, y: Coupling) =>
    y.calls - x.calls || compareStrings(x.from, y.from) || compareStrings(x.to, y.to);
  return {
    via,
    squads: [...teams.values()].sort((x, y) => y.services - x.services || compareStrings(x.ref, y.ref)),
    collectives: [...collectives.values()].sort(
      (x, y) => y.services - x.services || compareStrings(x.ref, y.ref),
    ),
    orphans: orphans.sort((x, y) => (x.tier ?? 99) - (y.tier ?? 99) || compareStrings(x.ref, y.ref)),
    tierInversions: tierInversions.sort(
      (x, y) => y.toTier - x.toTier || compareStrings(x.from, y.from) || compareStrings(x.to, y.to),
    ),
    coupling: [...squadPairs.values()].sort(byCalls),
    collectiveCoupling: [...collectivePairs.values()].sort(byCalls),
  };
}
