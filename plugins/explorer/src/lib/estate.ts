import { callNodes, collectiveOf, forEachCall, type GraphIndex, relationTargets } from '@bank/graph';
import { EDGE_DECLARED, EDGE_OBSERVED } from './edge-flags.ts';

export interface GroupRow {
  ref: string;
  title: string;
}

export interface EstateNode {
  ref: string;
  name: string;
  title: string | null;
  /** component or resource. */
  kind: string;
  tier: number | null;
  /** Indexes into `teams`, `collectives`, `systems`; -1 when none. */
  owner: number;
  collective: number;
  system: number;
}

/**
 * The whole call graph in one compact answer for the explorer, which groups, filters and lays it out in
 * the browser. Edges are a flat array of triples (from, to, flags) over node indexes; flags (edge-flags.ts):
 * 1 declared, 2 observed. About 60 bytes per edge: 30,000 edges are under 2 MB.
 */
export interface EstateGraph {
  version: number;
  teams: GroupRow[];
  collectives: GroupRow[];
  systems: GroupRow[];
  nodes: EstateNode[];
  edges: number[];
}

const cache = new WeakMap<GraphIndex, { version: number; graph: EstateGraph }>();

/** The estate graph of `index`, computed once per index version. */
export function estateGraph(index: GraphIndex): EstateGraph {
  const hit = cache.get(index);
  if (hit && hit.version === index.version) return hit.graph;
  const graph = buildEstateGraph(index);
  cache.set(index, { version: index.version, graph });
  return graph;
}

export function buildEstateGraph(index: GraphIndex): EstateGraph {
  const g = index.relations;
  const tables = {
    teams: new Map<string, number>(),
    collectives: new Map<string, number>(),
    systems: new Map<string, number>(),
  };
  const rows: Record<keyof typeof tables, GroupRow[]> = { teams: [], collectives: [], systems: [] };
  const slot = (table: keyof typeof tables, ref: string | null | undefined): number => {
    if (!ref) return -1;
    let i = tables[table].get(ref);
    if (i === undefined) {
      i = rows[table].length;
      tables[table].set(ref, i);
      const a = g.hasNode(ref) ? g.getNodeAttributes(ref) : undefined;
      rows[table].push({ ref, title: a?.title ?? ref.slice(ref.indexOf('/') + 1) });
    }
    return i;
  };
  const systemOf = (ref: string): string | null =>
    relationTargets(index, ref, 'partOf').find((t) => t.startsWith('system:')) ?? null;
  const refs = callNodes(index).sort();
  const position = new Map<string, number>();
  const nodes: EstateNode[] = refs.map((ref, i) => {
    position.set(ref, i);
    const a = g.hasNode(ref) ? g.getNodeAttributes(ref) : undefined;
    return {
      ref,
      name: a?.name ?? ref.slice(ref.indexOf('/') + 1),
      title: a?.title ?? null,
      kind: a?.kind ?? ref.slice(0, ref.indexOf(':')),
      tier: a?.tier ?? null,
      owner: slot('teams', a?.owner),
      collective: slot('collectives', collectiveOf(index, a?.owner)),
      system: slot('systems', g.hasNode(ref) ? systemOf(ref) : null),
    };
  });
  const edges: number[] = [];
  forEachCall(index, (a, src, dst) => {
    const flags =
      (a.sources.includes('declared') ? EDGE_DECLARED : 0) |
      (a.sources.includes('observed') ? EDGE_OBSERVED : 0);
    edges.push(position.get(src) as number, position.get(dst) as number, flags);
  });
  return { version: index.version, ...rows, nodes, edges };
}
