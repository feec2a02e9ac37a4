import { DirectedGraph } from 'graphology';
import { stronglyConnectedComponents } from 'graphology-components';
import { viaMask } from './call-graph.ts';
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

/**
 * Strongly connected components of the call graph with more than one service. Nodes that nothing calls or
 * that call nothing cannot be on a cycle; they are trimmed first (repeatedly), and graphology-components
 * finds the components of what is left, usually a small fraction of the estate.
 */
export function cycles(index: GraphIndex, options: { via?: Via } = {}): CyclesResult {
  const via = oneOf('cycles', 'via', options.via, VIAS, 'any');
  const mask = viaMask(via);
  const calls = index.calls;
  const n = calls.capacity;
  const inDegree = new Int32Array(n);
  const outDegree = new Int32Array(n);
  const selfLoops: string[] = [];
  for (const [ref, u] of calls.ids) {
    const list = calls.out[u];
    const masks = calls.outMask[u];
    for (let i = 0; i < list.length; i++) {
      if ((masks[i] & mask) === 0) continue;
      if (list[i] === u) {
        selfLoops.push(ref);
        continue;
      }
      outDegree[u]++;
      inDegree[list[i]]++;
    }
  }
  const trimmed = new Uint8Array(n);
  const queue: number[] = [];
  for (const u of calls.ids.values()) {
    if (inDegree[u] === 0 || outDegree[u] === 0) {
      trimmed[u] = 1;
      queue.push(u);
    }
  }
  const trim = (w: number) => {
    if (!trimmed[w] && (inDegree[w] === 0 || outDegree[w] === 0)) {
      trimmed[w] = 1;
      queue.push(w);
    }
  };
  for (let head = 0; head < queue.length; head++) {
    const u = queue[head];
    calls.out[u].forEach((w, i) => {
      if ((calls.outMask[u][i] & mask) !== 0 && w !== u) {
        inDegree[w]--;
        trim(w);
      }
    });
    calls.inn[u].forEach((v, i) => {
      if ((calls.innMask[u][i] & mask) !== 0 && v !== u) {
        outDegree[v]--;
        trim(v);
      }
    });
  }

  const core = new DirectedGraph();
  for (const [ref, u] of calls.ids) if (!trimmed[u]) core.addNode(ref);
  core.forEachNode((ref) => {
    const u = calls.ids.get(ref) ?? -1;
    calls.out[u].forEach((w, i) => {
      if ((calls.outMask[u][i] & mask) !== 0 && w !== u && !trimmed[w])
        core.addDirectedEdge(ref, calls.refs[w]);
    });
  });

  const found: CallCycle[] = [];
  for (const component of stronglyConnectedComponents(core)) {
    if (component.length < 2) continue;
    const members = new Set(component);
    const refs = [...members].sort(compareStrings);
    const edges: CallEdge[] = [];
    for (const ref of refs) {
      core.forEachOutNeighbor(ref, (t) => {
        if (members.has(t)) edges.push(callEdge(index, ref, t));
      });
    }
    edges.sort((a, b) => compareStrings(a.from, b.from) || compareStrings(a.to, b.to));
    found.push({ size: refs.length, members: refs.map((r) => nodeCard(index, r)), edges });
  }
  found.sort((a, b) => b.size - a.size || compareStrings(a.members[0].ref, b.members[0].ref));
  return { via, cycles: found, selfLoops: selfLoops.sort(compareStrings) };
}
