/** Where an edge is known from: the catalogue's descriptors, or traffic (traces, mesh metrics). */
export type EdgeSource = 'declared' | 'observed';
/** Which edges a query may walk. */
export type Via = 'declared' | 'observed' | 'any';
/** How a declared call edge arises: `dependsOn`, or `consumesApi` resolved to the API's provider. */
export type CallKind = 'dependsOn' | 'consumesApi';

/** Forward relation types: each entity's own outgoing relations of these types are its edges in the index. */
export const FORWARD_RELATIONS = [
  'ownedBy',
  'dependsOn',
  'providesApi',
  'consumesApi',
  'partOf',
  'childOf',
  'memberOf',
] as const;
export type ForwardRelation = (typeof FORWARD_RELATIONS)[number];

/** Attributes stored on every node of the index (an entity, or a placeholder for a ref nothing defines). */
export interface NodeAttributes {
  ref: string;
  kind: string;
  namespace: string;
  name: string;
  title?: string;
  /** False for a placeholder: the ref is a relation target or an observed callee, but no entity defines it. */
  present: boolean;
  tier?: number;
  oncall?: string;
  runbook?: string;
  /** bank.io/slack-channel, e.g. "#squad-ledger". */
  slack?: string;
  /** spec.type (service, website, library; for groups organization, collective, squad). */
  type?: string;
  lifecycle?: string;
  /** First ownedBy target. */
  owner?: string;
  /** First childOf target (a squad's collective). */
  parent?: string;
}

/** One edge per (entity, target) pair; `types` lists every forward relation between them, sorted. */
export interface RelationAttributes {
  types: string[];
}

/** Traffic facts on an observed edge (the traffic work fills these in). */
export interface ObservedFacts {
  count?: number;
  firstSeen?: string;
  lastSeen?: string;
}

export interface CallEdgeAttributes {
  /** Declared kinds, sorted; empty when the edge is only observed. */
  kinds: CallKind[];
  /** APIs through which a consumesApi edge arises, sorted. */
  apis: string[];
  sources: EdgeSource[];
  observed?: ObservedFacts;
}

/** What the UI and every hop of a path show about a node. */
export interface NodeCard {
  ref: string;
  kind: string;
  name: string;
  title: string | null;
  /** Owner group ref (normally a squad). */
  owner: string | null;
  /** The collective above the owner (the owner itself when it is a collective). */
  collective: string | null;
  tier: number | null;
  oncall: string | null;
  runbook: string | null;
  /** Where to ask: the service's Slack channel, else its owner's. */
  slack: string | null;
  /** Present only when no entity defines this ref (a dangling relation target or an unknown observed callee). */
  missing?: true;
}

/** A call edge as queries return it. */
export interface CallEdge {
  from: string;
  to: string;
  kinds: CallKind[];
  sources: EdgeSource[];
  apis?: string[];
}
