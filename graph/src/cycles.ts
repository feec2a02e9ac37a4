import { DirectedGraph } from 'graphology';
import { stronglyConnectedComponents } from 'graphology-components';
import { callEdge, nodeCard } from './card.ts';
import type { GraphIndex } from './graph-index.ts';
import { oneOf, VIAS } from './internal/options.ts';
import { compareStrings } from './internal/ref.ts';
import type { CallEdge, NodeCard, Via } from './types.ts';

export interface CallCycle {
  size: number;
  members: NodeCard[];
  /** The call edges inside the component. */
  edges: CallEdge[];
}

export interface CyclesResult {
  via: Via;
  /** Strongly connected components with more than one node, largest first. */
  cycles: CallCycle[];
  /** Nodes that call themselves (not cycles between services, but worth knowing). */
  selfLoops: string[];
}

/** Strongly connected components of the call graph (graphology-components) with more than one service. */
export function cycles(index: GraphIndex, options: { via?: Via } = {}): CyclesResult {
  const via = oneOf('cycles', 'via', options.via, VIAS, 'any');
  const graph = via === 'any' ? index.calls : filtered(index, via);
  const selfLoops: string[] = [];
  graph.forEachEdge((_e, _a, s, t) => {
    if (s === t) selfLoops.push(s);
  });
  const found: CallCycle[] = [];
  for (const component of stronglyConnectedComponents(graph)) {
    if (component.length < 2) continue;
    const members = new Set(component);
    const refs = [...members].sort(compareStrings);
    const edges: CallEdge[] = [];
    for (const ref of refs) {
      graph.forEachOutNeighbor(ref, (t) => {
        if (members.has(t) && t !== ref) edges.push(callEdge(index, ref, t));
      });
    }
    edges.sort((a, b) => compareStrings(a.from, b.from) || compareStrings(a.to, b.to));
    found.push({ size: refs.length, members: refs.map((r) => nodeCard(index, r)), edges });
  }
  found.sort((a, b) => b.size - a.size || compareStrings(a.members[0].ref, b.members[0].ref));
  return { via, cycles: found, selfLoops: selfLoops.sort(compareStrings) };
}

function filtered(index: GraphIndex, via: Via): DirectedGraph {
  const graph = new DirectedGraph({ allowSelfLoops: true });
  index.calls.forEachNode((n) => {
    graph.addNode(n);
  });
  index.calls.forEachEdge((_e, a, s, t) => {
    if (a.sources.includes(via as 'declared' | 'observed')) graph.addDirectedEdge(s, t);
  });
  return graph;
}
