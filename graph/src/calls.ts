import { DECLARED, OBSERVED } from './call-graph.ts';
import type { GraphIndex } from './graph-index.ts';
import type { CallEdgeAttributes, CallKind } from './types.ts';

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

/**
 * The callees (`out`) or callers (`in`) of one node with how each call is known: declared in the catalogue,
 * observed in traffic, or both. Cheaper than {@link forEachCallOf} when the edge's kinds and APIs are not
 * needed (no attribute lookup per caller).
 */
export function forEachCallNeighbour(
  index: GraphIndex,
  ref: string,
  direction: 'out' | 'in',
  cb: (other: string, declared: boolean, observed: boolean) => void,
): void {
  index.calls.forEachNeighbour(ref, direction, (other, mask) =>
    cb(other, (mask & DECLARED) !== 0, (mask & OBSERVED) !== 0),
  );
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

/** A declared call: dependsOn, or consumesApi resolved to the API's provider (`apis` says which APIs). */
export interface DeclaredCall {
  /** The callee (out) or the caller (in). */
  ref: string;
  kinds: CallKind[];
  apis: string[];
}

/**
 * The declared calls out of (callees) or into (callers) one node, in ref order: what the descriptors say,
 * observed-only edges left out. Every place that asks "who calls whom" by the descriptors asks this.
 */
export function declaredCalls(index: GraphIndex, ref: string, direction: 'out' | 'in'): DeclaredCall[] {
  const out: DeclaredCall[] = [];
  forEachCallOf(index, ref, direction, (a, other) => {
    if (a.kinds.length > 0) out.push({ ref: other, kinds: a.kinds, apis: a.apis });
  });
  return out.sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
}
