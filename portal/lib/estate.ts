/** The explorer's wire shape (GET /api/explorer/estate): the whole call graph, compact. */
export interface GroupRow {
  ref: string;
  title: string;
}

export interface EstateNode {
  ref: string;
  name: string;
  title: string | null;
  kind: string;
  tier: number | null;
  /** Indexes into teams / collectives / systems; -1 when none. */
  owner: number;
  collective: number;
  system: number;
}

export interface EstateGraph {
  version: number;
  teams: GroupRow[];
  collectives: GroupRow[];
  systems: GroupRow[];
  nodes: EstateNode[];
  /** Flat triples (from, to, flags): flags 1 = declared, 2 = observed. */
  edges: number[];
}

export const EDGE_DECLARED = 1;
export const EDGE_OBSERVED = 2;
