import { type GraphIndex, type OwnershipResult, ownership } from '@bank/graph';

export interface OrgSquad {
  ref: string;
  name: string;
  title: string;
  members: number;
  services: number;
  byTier: Record<string, number>;
}

export interface OrgCollective extends OrgSquad {
  squads: OrgSquad[];
}

export interface OrgChart {
  version: number;
  /** Full counts where the lists below are cut to MAX_PAIRS. */
  totals: { couplingPairs: number; tierInversions: number };
  root: { ref: string; title: string; members: number; services: number } | null;
  collectives: OrgCollective[];
  ownership: OwnershipResult;
}

const MAX_PAIRS = 1000;

const cache = new WeakMap<GraphIndex, { version: number; chart: OrgChart }>();

/**
 * The bank → collectives → squads tree with each team's load, plus the graph's ownership analysis
 * (orphans, tier inversions, coupling). Computed once per index version.
 */
export function orgChart(index: GraphIndex): OrgChart {
  const hit = cache.get(index);
  if (hit && hit.version === index.version) return hit.chart;
  const own = ownership(index);
  const g = index.relations;
  const squadsBy = new Map<string, OrgSquad[]>();
  for (const s of own.squads) {
    const parent = g.hasNode(s.ref) ? g.getNodeAttribute(s.ref, 'parent') : undefined;
    const key = s.collective ?? parent ?? '';
    const list = squadsBy.get(key) ?? [];
    list.push({
      ref: s.ref,
      name: s.name,
      title: s.title ?? s.name,
      members: s.members,
      services: s.services,
      byTier: s.byTier,
    });
    squadsBy.set(key, list);
  }
  const collectives: OrgCollective[] = own.collectives.map((c) => ({
    ref: c.ref,
    name: c.name,
    title: c.title ?? c.name,
    members: c.members,
    services: c.services,
    byTier: c.byTier,
    squads: (squadsBy.get(c.ref) ?? []).sort((a, b) => a.title.localeCompare(b.title)),
  }));
  collectives.sort((a, b) => a.title.localeCompare(b.title));
  let root: OrgChart['root'] = null;
  let people = 0;
  g.forEachNode((ref, a) => {
    if (!a.present) return;
    if (a.kind === 'user') people++;
    if (root === null && a.kind === 'group' && a.type === 'organization') {
      root = { ref, title: a.title ?? a.name, members: 0, services: 0 };
    }
  });
  if (root !== null) {
    const r = root as { members: number; services: number };
    r.members = people;
    r.services = collectives.reduce((n, c) => n + c.services, 0);
  }
  // The squad matrix shows the strongest couplings; at 3,500 services there are tens of thousands of pairs.
  const ownershipShown = {
    ...own,
    coupling: own.coupling.slice(0, MAX_PAIRS),
    tierInversions: own.tierInversions.slice(0, MAX_PAIRS),
  };
  const chart: OrgChart = {
    version: index.version,
    root,
    collectives,
    ownership: ownershipShown,
    totals: { couplingPairs: own.coupling.length, tierInversions: own.tierInversions.length },
  };
  cache.set(index, { version: index.version, chart });
  return chart;
}
