import { nodeCard } from '../card.ts';
import type { GraphIndex } from '../graph-index.ts';
import { compareStrings } from './ref.ts';

/** Neo4j labels per kind: a fixed list, so no entity text ever becomes part of a query or script. */
export const KIND_LABELS: Record<string, string> = {
  component: 'Component',
  api: 'API',
  resource: 'Resource',
  system: 'System',
  domain: 'Domain',
  group: 'Group',
  user: 'User',
  location: 'Location',
  template: 'Template',
};

/** Relationship types per relation: a fixed list; any other relation is exported as RELATION {type}. */
export const RELATION_TYPES: Record<string, string> = {
  ownedBy: 'OWNED_BY',
  dependsOn: 'DEPENDS_ON',
  providesApi: 'PROVIDES_API',
  consumesApi: 'CONSUMES_API',
  partOf: 'PART_OF',
  childOf: 'CHILD_OF',
  memberOf: 'MEMBER_OF',
};

export type Scope = 'all' | 'calls';

export type PropertyValue = string | number | boolean | string[];

export interface NodeRow {
  ref: string;
  label: string | null;
  props: Record<string, PropertyValue>;
}

export interface EdgeRow {
  from: string;
  to: string;
  /** 'CALLS', a RELATION_TYPES value, or 'RELATION'. */
  relType: string;
  props: Record<string, PropertyValue>;
}

/** Nodes as property rows (nulls left out: Neo4j has no null properties), sorted by ref. */
export function nodeRows(index: GraphIndex, scope: Scope = 'all'): NodeRow[] {
  const refs = scope === 'calls' ? index.calls.nodes() : index.relations.nodes();
  return refs.sort(compareStrings).map((ref) => {
    const card = nodeCard(index, ref);
    const a = index.relations.getNodeAttributes(ref);
    const props: Record<string, PropertyValue> = {
      ref,
      kind: card.kind,
      namespace: a.namespace,
      name: card.name,
      missing: card.missing === true,
    };
    for (const key of ['title', 'owner', 'collective', 'tier', 'oncall', 'runbook'] as const) {
      const value = card[key];
      if (value !== null) props[key] = value;
    }
    if (a.type !== undefined) props.type = a.type;
    if (a.lifecycle !== undefined) props.lifecycle = a.lifecycle;
    return { ref, label: KIND_LABELS[card.kind] ?? null, props };
  });
}

/** Relation edges (scope all) and call edges, sorted. */
export function edgeRows(index: GraphIndex, scope: Scope = 'all'): EdgeRow[] {
  const rows: EdgeRow[] = [];
  if (scope === 'all') {
    index.relations.forEachEdge((_e, a, from, to) => {
      for (const type of a.types) {
        const relType = RELATION_TYPES[type] ?? 'RELATION';
        rows.push({ from, to, relType, props: relType === 'RELATION' ? { type } : {} });
      }
    });
  }
  index.calls.forEachEdge((a, from, to) => {
    const props: Record<string, PropertyValue> = { kinds: a.kinds, sources: a.sources };
    if (a.apis.length > 0) props.apis = a.apis;
    if (a.observed?.count !== undefined) props.observedCount = a.observed.count;
    if (a.observed?.lastSeen !== undefined) props.lastSeen = a.observed.lastSeen;
    rows.push({ from, to, relType: 'CALLS', props });
  });
  return rows.sort(
    (x, y) =>
      compareStrings(x.relType, y.relType) || compareStrings(x.from, y.from) || compareStrings(x.to, y.to),
  );
}
