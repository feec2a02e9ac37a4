import type { GraphIndex } from './graph-index.ts';
import type { CallEdge, NodeAttributes, NodeCard } from './types.ts';

/** What the collective rule reads of an entity: its kind, spec.type and parent group (first childOf target). */
export interface GroupFacts {
  kind: string;
  type?: string;
  parent?: string;
}

/**
 * The collective above a group: the first group of type `collective` walking up childOf (the group itself
 * included), or null. Every place that names a team's collective asks this rule with its own table of
 * entities: {@link collectiveOf} passes the graph index, the catalogue view its entities.
 */
export function nearestCollective(
  group: string | null | undefined,
  factsOf: (ref: string) => GroupFacts | undefined,
): string | null {
  let current = group ?? undefined;
  for (let guard = 0; current !== undefined && guard < 32; guard++) {
    const facts = factsOf(current);
    if (facts === undefined) return null;
    if (facts.kind === 'group' && facts.type === 'collective') return current;
    current = facts.parent;
  }
  return null;
}

/** The collective above a group in the index (see {@link nearestCollective}). */
export function collectiveOf(index: GraphIndex, group: string | null | undefined): string | null {
  return nearestCollective(group, (ref) => index.node(ref));
}

/** Where to ask about a node: its own Slack channel, else its owner's (a squad's channel is the usual one). */
export function slackOf(index: GraphIndex, a: NodeAttributes): string | null {
  if (a.slack) return a.slack;
  return (a.owner ? index.node(a.owner)?.slack : undefined) ?? null;
}

/** What a hop, a dependent or a UI node shows about `ref` (which must be in the index). */
export function nodeCard(index: GraphIndex, ref: string): NodeCard {
  const a = attributesOf(index, ref);
  const card: NodeCard = {
    ref,
    kind: a.kind,
    name: a.name,
    title: a.title ?? null,
    owner: a.owner ?? null,
    collective: collectiveOf(index, a.owner),
    tier: a.tier ?? null,
    oncall: a.oncall ?? null,
    runbook: a.runbook ?? null,
    slack: a.slack ?? (a.owner ? index.node(a.owner)?.slack : undefined) ?? null,
  };
  if (!a.present) card.missing = true;
  return card;
}

/** A node's attributes; like graphology's getNodeAttributes, an unknown ref throws. */
export function attributesOf(index: GraphIndex, ref: string): NodeAttributes {
  const a = index.node(ref);
  if (a === undefined) throw new Error(`Graph: no node "${ref}"`);
  return a;
}

/** The call edge src → dst as queries return it (which must exist). */
export function callEdge(index: GraphIndex, src: string, dst: string): CallEdge {
  const a = index.calls.getEdgeAttributes(src, dst);
  if (!a) throw new Error(`callEdge: no call edge ${src} → ${dst}`);
  const edge: CallEdge = { from: src, to: dst, kinds: a.kinds, sources: a.sources };
  if (a.apis.length > 0) edge.apis = a.apis;
  return edge;
}
