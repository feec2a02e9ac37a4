import type { GraphIndex } from './graph-index.ts';
import type { CallEdgeAttributes } from './types.ts';

/**
 * Readers over the index's call edges and relations for code outside graph/ (the UI's plugins), so they
 * need not know how the index stores them.
 */
export function callNodes(index: GraphIndex): string[] {
  return index.calls.nodes();
}

export function hasCallNode(index: GraphIndex, ref: string): boolean {
  return index.calls.hasNode(ref);
}

/** Every call edge: its facts (kinds, apis, sources), caller and callee. */
export function forEachCall(
  index: GraphIndex,
  cb: (a: CallEdgeAttributes, source: string, target: string) => void,
): void {
  index.calls.forEachEdge(cb);
}

/** The call edges out of (callees) or into (callers) one node. */
export function forEachCallOf(
  index: GraphIndex,
  ref: string,
  direction: 'out' | 'in',
  cb: (a: CallEdgeAttributes, other: string) => void,
): void {
  if (!index.calls.hasNode(ref)) return;
  if (direction === 'out') index.calls.forEachOutEdge(ref, (a, _s, t) => cb(a, t));
  else index.calls.forEachInEdge(ref, (a, s) => cb(a, s));
}

/** Targets of `ref`'s forward relations of `type`. */
export function relationTargets(index: GraphIndex, ref: string, type: string): string[] {
  if (!index.relations.hasNode(ref)) return [];
  const out: string[] = [];
  index.relations.forEachOutEdge(ref, (_e, a, _s, t) => {
    if (a.types.includes(type)) out.push(t);
  });
  return out;
}
