import { callEdge, nodeCard } from './card.ts';
import type { GraphIndex } from './graph-index.ts';
import { intOption, oneOf, VIAS } from './internal/options.ts';
import { compareStrings } from './internal/ref.ts';
import { resolveRef } from './resolve.ts';
import type { CallEdge, NodeCard, Via } from './types.ts';

export const NEIGHBOURHOOD_LIMITS = {
  depth: { min: 1, max: 6, default: 1 },
  limit: { min: 1, max: 5000, default: 500 },
} as const;

export type Direction = 'up' | 'down' | 'both';

export interface NeighbourhoodOptions {
  /** Hops from the centre, 1–6 (default 1). */
  depth?: number;
  /** down = what it calls / points to, up = what calls / points to it (default both). */
  direction?: Direction;
  via?: Via;
  /** Most nodes returned, 1–5000 (default 500); the rest are counted, not dropped silently. */
  limit?: number;
  /** Which edges to walk: call edges (default for components and resources) or catalogue relations. */
  graph?: 'calls' | 'relations';
}

export interface NeighbourhoodNode extends NodeCard {
  distance: number;
}

export interface NeighbourhoodEdge extends CallEdge {
  /** For relation edges: the relation type (ownedBy, partOf, …). */
  relation?: string;
}

export interface NeighbourhoodResult {
  ref: string;
  graph: 'calls' | 'relations';
  depth: number;
  direction: Direction;
  via: Via;
  nodes: NeighbourhoodNode[];
  /** Every edge between returned nodes (in the walked graph). */
  edges: NeighbourhoodEdge[];
  /** Nodes within depth left out because of `limit`. */
  hiddenNodes: number;
  /** Edges from returned nodes to nodes not returned (beyond depth or limit), in the walked direction(s). */
  hiddenEdges: number;
}

/** The subgraph around `ref` for the UI: nodes with their card fields and the edges between them. */
export function neighbourhood(
  index: GraphIndex,
  ref: string,
  options: NeighbourhoodOptions = {},
): NeighbourhoodResult {
  const L = NEIGHBOURHOOD_LIMITS;
  const depth = intOption('neighbourhood', 'depth', options.depth, L.depth.min, L.depth.max, L.depth.default);
  const limit = intOption('neighbourhood', 'limit', options.limit, L.limit.min, L.limit.max, L.limit.default);
  const direction = oneOf<Direction>(
    'neighbourhood',
    'direction',
    options.direction,
    ['up', 'down', 'both'],
    'both',
  );
  const via = oneOf('neighbourhood', 'via', options.via, VIAS, 'any');
  const centre = resolveRef(index, ref, { fn: 'neighbourhood', field: 'ref' });
  const graphName = oneOf<'calls' | 'relations'>(
    'neighbourhood',
    'graph',
    options.graph,
    ['calls', 'relations'],
    index.calls.hasNode(centre) ? 'calls' : 'relations',
  );
  const useCalls = graphName === 'calls' && index.calls.hasNode(centre);
  const passes = (sources: string[]) => via === 'any' || sources.includes(via);

  /** Neighbours of a node in the walked direction(s), sorted, with edges passing the via filter. */
  const neighbours = (node: string): string[] => {
    const found = new Set<string>();
    if (useCalls) {
      if (direction !== 'up') {
        index.calls.forEachOutEdge(node, (a, _s, t) => {
          if (passes(a.sources)) found.add(t);
        });
      }
      if (direction !== 'down') {
        index.calls.forEachInEdge(node, (a, s) => {
          if (passes(a.sources)) found.add(s);
        });
      }
    } else {
      if (direction !== 'up') index.relations.forEachOutNeighbor(node, (t) => found.add(t));
      if (direction !== 'down') index.relations.forEachInNeighbor(node, (s) => found.add(s));
    }
    found.delete(node);
    return [...found].sort(compareStrings);
  };

  const distance = new Map<string, number>([[centre, 0]]);
  let frontier = [centre];
  let hiddenNodes = 0;
  for (let d = 1; d <= depth && frontier.length > 0; d++) {
    const next: string[] = [];
    for (const node of frontier) {
      for (const w of neighbours(node)) {
        if (distance.has(w)) continue;
        if (distance.size >= limit) {
          hiddenNodes++;
          distance.set(w, -1);
          continue;
        }
        distance.set(w, d);
        next.push(w);
      }
    }
    frontier = next;
  }
  const included = [...distance].filter(([, d]) => d >= 0);
  const inSet = new Set(included.map(([r]) => r));

  const edges: NeighbourhoodEdge[] = [];
  let hiddenEdges = 0;
  for (const node of inSet) {
    if (useCalls) {
      index.calls.forEachOutEdge(node, (a, s, t) => {
        if (!passes(a.sources)) return;
        if (inSet.has(t)) edges.push(callEdge(index, s, t));
        else if (direction !== 'up') hiddenEdges++;
      });
      if (direction !== 'down') {
        index.calls.forEachInEdge(node, (a, s) => {
          if (passes(a.sources) && !inSet.has(s)) hiddenEdges++;
        });
      }
    } else {
      index.relations.forEachOutEdge(node, (_e, a, s, t) => {
        if (inSet.has(t)) {
          for (const relation of a.types)
            edges.push({ from: s, to: t, kinds: [], sources: ['declared'], relation });
        } else if (direction !== 'up') hiddenEdges++;
      });
      if (direction !== 'down') {
        index.relations.forEachInEdge(node, (_e, _a, s) => {
          if (!inSet.has(s)) hiddenEdges++;
        });
      }
    }
  }
  edges.sort(
    (a, b) =>
      compareStrings(a.from, b.from) ||
      compareStrings(a.to, b.to) ||
      compareStrings(a.relation ?? '', b.relation ?? ''),
  );
  const nodes = included
    .map(([r, d]) => Object.assign(nodeCard(index, r), { distance: d }))
    .sort((a, b) => a.distance - b.distance || compareStrings(a.ref, b.ref));
  return {
    ref: centre,
    graph: useCalls ? 'calls' : 'relations',
    depth,
    direction,
    via,
    nodes,
    edges,
    hiddenNodes,
    hiddenEdges,
  };
}
