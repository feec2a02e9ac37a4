import type { CallGraph } from '../call-graph.ts';

/**
 * Breadth-first distances from `start` over call edges passing `mask`, forwards (`out`) or backwards
 * (`inn`), up to `limit` hops. Unreached nodes stay -1. Also returns the reached ids in BFS order.
 */
export function bfsDistances(
  adjacency: CallGraph,
  start: number,
  direction: 'out' | 'inn',
  mask: number,
  limit: number,
): { dist: Int32Array; order: number[] } {
  const dist = new Int32Array(adjacency.capacity).fill(-1);
  const lists = direction === 'out' ? adjacency.out : adjacency.inn;
  const masks = direction === 'out' ? adjacency.outMask : adjacency.innMask;
  const order = [start];
  dist[start] = 0;
  for (let head = 0; head < order.length; head++) {
    const u = order[head];
    const d = dist[u];
    if (d >= limit) continue;
    const list = lists[u];
    const m = masks[u];
    for (let i = 0; i < list.length; i++) {
      const w = list[i];
      if ((m[i] & mask) === 0 || dist[w] !== -1) continue;
      dist[w] = d + 1;
      order.push(w);
    }
  }
  return { dist, order };
}
