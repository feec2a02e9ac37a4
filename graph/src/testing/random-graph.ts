import fc from 'fast-check';
import type { ObservedEdgeInput } from '../graph-index.ts';
import type { Via } from '../types.ts';
import { type EntitySpec, refOf } from './entities.ts';

/** A small random call graph: edges may repeat, loop, form cycles, and leave parts disconnected. */
export interface RandomGraph {
  nodes: number;
  /** i dependsOn j. */
  dependsOn: [number, number][];
  /** i consumes the API of j (j provides `api-j`; `extraProviders` may also provide it). */
  consumes: [number, number][];
  /** api-j is also provided by m. */
  extraProviders: [number, number][];
  observed: [number, number][];
}

export const nodeRef = (i: number): string => refOf('component', `c${i}`);

export const randomGraph = (maxNodes = 7): fc.Arbitrary<RandomGraph> =>
  fc.integer({ min: 1, max: maxNodes }).chain((nodes) => {
    const pair = fc.tuple(fc.nat({ max: nodes - 1 }), fc.nat({ max: nodes - 1 }));
    return fc.record({
      nodes: fc.constant(nodes),
      dependsOn: fc.array(pair, { maxLength: nodes * 3 }),
      consumes: fc.array(pair, { maxLength: nodes }),
      extraProviders: fc.array(pair, { maxLength: 2 }),
      observed: fc.array(pair, { maxLength: nodes }),
    });
  });

/** The graph as entity specs (what the catalogue would hand over) and observed edges. */
export function toSpecs(g: RandomGraph): { specs: EntitySpec[]; observed: ObservedEdgeInput[] } {
  const specs: EntitySpec[] = [];
  const usedApis = new Set<number>([...g.consumes.map(([, j]) => j), ...g.extraProviders.map(([j]) => j)]);
  for (let i = 0; i < g.nodes; i++) {
    const provides = new Set<string>();
    if (usedApis.has(i)) provides.add(refOf('api', `api-${i}`));
    for (const [j, m] of g.extraProviders) if (m === i) provides.add(refOf('api', `api-${j}`));
    specs.push({
      kind: 'Component',
      name: `c${i}`,
      tier: 1 + (i % 4),
      dependsOn: g.dependsOn.filter(([a]) => a === i).map(([, b]) => nodeRef(b)),
      consumesApis: g.consumes.filter(([a]) => a === i).map(([, b]) => refOf('api', `api-${b}`)),
      providesApis: [...provides],
    });
  }
  for (const j of usedApis) specs.push({ kind: 'API', name: `api-${j}` });
  const observed = g.observed.map(([a, b]) => ({ from: nodeRef(a), to: nodeRef(b), count: 1 }));
  return { specs, observed };
}

/** Call edges computed directly from the random graph (an independent formulation), as "i j" → sources. */
export function bruteCallEdges(g: RandomGraph): Map<string, Set<'declared' | 'observed'>> {
  const edges = new Map<string, Set<'declared' | 'observed'>>();
  const add = (a: number, b: number, source: 'declared' | 'observed') => {
    const key = `${a} ${b}`;
    const set = edges.get(key) ?? new Set();
    set.add(source);
    edges.set(key, set);
  };
  for (const [a, b] of g.dependsOn) add(a, b, 'declared');
  for (const [a, j] of g.consumes) {
    add(a, j, 'declared');
    for (const [api, m] of g.extraProviders) if (api === j) add(a, m, 'declared');
  }
  for (const [a, b] of g.observed) add(a, b, 'observed');
  return edges;
}

function adjacencyOf(g: RandomGraph, via: Via): number[][] {
  const adj: number[][] = Array.from({ length: g.nodes }, () => []);
  for (const [key, sources] of bruteCallEdges(g)) {
    if (via !== 'any' && !sources.has(via)) continue;
    const [a, b] = key.split(' ').map(Number);
    adj[a].push(b);
  }
  return adj;
}

/** Every simple path s → t of at most maxHops edges, by DFS; sorted by length then refs; first k. */
export function brutePaths(
  g: RandomGraph,
  s: number,
  t: number,
  k: number,
  maxHops: number,
  via: Via,
): string[][] {
  const adj = adjacencyOf(g, via);
  const found: number[][] = [];
  const walk = (path: number[]) => {
    const u = path[path.length - 1];
    if (u === t) {
      found.push([...path]);
      return;
    }
    if (path.length - 1 === maxHops) return;
    for (const w of new Set(adj[u])) {
      if (path.includes(w)) continue;
      path.push(w);
      walk(path);
      path.pop();
    }
  };
  walk([s]);
  const refs = found.map((p) => p.map(nodeRef));
  refs.sort(
    (a, b) => a.length - b.length || (a.join('|') < b.join('|') ? -1 : a.join('|') > b.join('|') ? 1 : 0),
  );
  return refs.slice(0, k);
}

/** Floyd–Warshall hop distances (Infinity when unreachable; 0 on the diagonal). */
export function bruteDistances(g: RandomGraph, via: Via): number[][] {
  const n = g.nodes;
  const d = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => (i === j ? 0 : Infinity)),
  );
  adjacencyOf(g, via).forEach((list, a) => {
    for (const b of list) if (a !== b) d[a][b] = 1;
  });
  for (let m = 0; m < n; m++)
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) d[i][j] = Math.min(d[i][j], d[i][m] + d[m][j]);
  return d;
}

/** Strongly connected components with more than one node, by mutual reachability; sorted refs. */
export function bruteCycles(g: RandomGraph, via: Via): string[][] {
  const d = bruteDistances(g, via);
  const seen = new Set<number>();
  const out: string[][] = [];
  for (let i = 0; i < g.nodes; i++) {
    if (seen.has(i)) continue;
    const comp = [];
    for (let j = 0; j < g.nodes; j++) if (d[i][j] < Infinity && d[j][i] < Infinity) comp.push(j);
    for (const j of comp) seen.add(j);
    if (comp.length > 1) out.push(comp.map(nodeRef).sort());
  }
  return out.sort((a, b) => b.length - a.length || (a[0] < b[0] ? -1 : 1));
}
