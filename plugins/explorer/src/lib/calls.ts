import type { GraphIndex } from '@bank/graph';

/** What every call edge carries, in both shapes of the index. */
export interface CallFacts {
  kinds: string[];
  apis: string[];
  sources: string[];
}

type Args = unknown[];

// The graph index is moving from graphology callbacks (edgeKey, attributes, source, target) to its own
// call graph (attributes, source, target). These readers accept both, so the explorer does not depend
// on which one is checked out; once the new index has landed they reduce to direct calls.
function split(args: Args): { a: CallFacts; s: string; t: string } {
  return typeof args[0] === 'string'
    ? { a: args[1] as CallFacts, s: args[2] as string, t: args[3] as string }
    : { a: args[0] as CallFacts, s: args[1] as string, t: args[2] as string };
}

interface Walkable {
  forEachEdge(cb: (...args: Args) => void): void;
  forEachOutEdge(ref: string, cb: (...args: Args) => void): void;
  forEachInEdge(ref: string, cb: (...args: Args) => void): void;
  hasNode(ref: string): boolean;
  nodes(): Iterable<string>;
}

const calls = (index: GraphIndex) => index.calls as unknown as Walkable;

export function callNodes(index: GraphIndex): string[] {
  return [...calls(index).nodes()];
}

export function hasCallNode(index: GraphIndex, ref: string): boolean {
  return calls(index).hasNode(ref);
}

export function forEachCall(
  index: GraphIndex,
  cb: (a: CallFacts, source: string, target: string) => void,
): void {
  calls(index).forEachEdge((...args) => {
    const { a, s, t } = split(args);
    cb(a, s, t);
  });
}

export function forEachCallOf(
  index: GraphIndex,
  ref: string,
  direction: 'out' | 'in',
  cb: (a: CallFacts, other: string) => void,
): void {
  if (!calls(index).hasNode(ref)) return;
  const each = (...args: Args) => {
    const { a, s, t } = split(args);
    cb(a, direction === 'out' ? t : s);
  };
  if (direction === 'out') calls(index).forEachOutEdge(ref, each);
  else calls(index).forEachInEdge(ref, each);
}

/** Targets of `ref`'s forward relations of `type` (relation edges carry `type` or `types`). */
export function relationTargets(index: GraphIndex, ref: string, type: string): string[] {
  const g = index.relations as unknown as {
    hasNode(r: string): boolean;
    forEachOutEdge(r: string, cb: (...args: Args) => void): void;
  };
  if (!g.hasNode(ref)) return [];
  const out: string[] = [];
  g.forEachOutEdge(ref, (...args) => {
    const a = args[1] as { type?: string; types?: string[] };
    const t = args[3] as string;
    if (a.type === type || a.types?.includes(type)) out.push(t);
  });
  return out;
}
