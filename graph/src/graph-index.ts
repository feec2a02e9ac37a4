import type { Entity } from '@backstage/catalog-model';
import { ANNOTATION, DERIVED_RELATIONS } from '@bank/catalog/model';
import { DirectedGraph } from 'graphology';
import { CallGraph } from './call-graph.ts';
import { GraphQueryError } from './errors.ts';
import { callCards, cardOf, forgetCards } from './internal/call-cards.ts';
import { compareForShortName, isCallable, splitRef } from './internal/ref.ts';
import type {
  CallEdgeAttributes,
  CallKind,
  EdgeSource,
  NodeAttributes,
  ObservedFacts,
  RelationAttributes,
} from './types.ts';

/**
 * The graph index: every entity as a node and its relations as edges (a graphology `DirectedGraph`, one
 * edge per pair of entities carrying its relation types), plus the call edges between components and
 * resources ({@link CallGraph}: integer adjacency lists, one edge per caller/callee pair with its kinds and
 * sources).
 *
 * Only forward relations (ownedBy, dependsOn, providesApi, consumesApi, partOf, childOf, memberOf, and any
 * type that is not the inverse of one) are stored, each taken from the entity that holds it, so replacing
 * one entity replaces exactly its outgoing edges. Every change is one synchronous call, so a query (also
 * synchronous) sees the index either before or after a change, never in between.
 */
export class GraphIndex {
  private relationsGraph: RelationsGraph | undefined = newRelationsGraph();
  private providers: Map<string, Set<string>> | undefined = new Map();
  /**
   * Set on an index read from a saved one (saved-index.ts): its relations graph and API providers are made
   * when first asked for, so a query that needs only call edges and node attributes (paths, impact of a
   * service) never pays for them.
   */
  private deferred: DeferredRelations | undefined;
  readonly calls = new CallGraph();
  private nameMap: Map<string, string[]> | undefined = new Map();

  constructor(deferred?: DeferredRelations) {
    if (deferred) {
      this.relationsGraph = undefined;
      this.providers = undefined;
      this.nameMap = undefined;
      this.deferred = deferred;
    }
  }

  /** Every entity as a node, every forward relation as an edge (graphology). */
  get relations(): RelationsGraph {
    if (this.relationsGraph === undefined) this.makeDeferred();
    return this.relationsGraph as RelationsGraph;
  }

  /** API ref → the entities that provide it (kept with the relations; resolves consumesApi quickly). */
  get apiProviders(): Map<string, Set<string>> {
    if (this.providers === undefined) this.makeDeferred();
    return this.providers as Map<string, Set<string>>;
  }

  /** Short name → refs, in the order a short name prefers them. */
  get names(): Map<string, string[]> {
    this.nameMap ??= (this.deferred as DeferredRelations).names();
    return this.nameMap;
  }

  /** The refs of a short name, preferred first, without making a deferred name table. */
  refsNamed(name: string): readonly string[] {
    if (this.nameMap === undefined && this.deferred) return this.deferred.named(name);
    return this.names.get(name) ?? [];
  }

  /** A node's attributes (undefined: no such node), without making a deferred relations graph. */
  node(ref: string): NodeAttributes | undefined {
    if (this.deferred) return this.deferred.node(ref);
    const graph = this.relationsGraph as RelationsGraph;
    return graph.hasNode(ref) ? graph.getNodeAttributes(ref) : undefined;
  }

  private makeDeferred(): void {
    const deferred = this.deferred as DeferredRelations;
    this.nameMap ??= deferred.names();
    this.making ??= deferred.make();
    let step = this.making.next();
    while (!step.done) step = this.making.next();
    this.madeFrom(step.value);
  }

  private madeFrom(made: MadeRelations): void {
    this.relationsGraph = made.relations;
    this.providers = made.apiProviders;
    this.nextEdgeKey = made.nextEdgeKey;
    this.deferred = undefined;
    this.making = undefined;
  }

  /** A deferred relations graph being made in slices (prepareRelations); a synchronous ask finishes it. */
  private making: Generator<void, MadeRelations, void> | undefined;

  /**
   * Makes a deferred relations graph now, in slices of about `sliceMs` with the event loop's turn between
   * them: at 35,000 services it is seconds of work, which done in one go (the first reader of `relations`)
   * would hold every request for as long. Background work that will read the relations (scoring) asks for
   * this first. Resolves at once when there is nothing to make.
   */
  async prepareRelations(sliceMs = 20): Promise<void> {
    if (!this.deferred) return;
    this.nameMap ??= this.deferred.names();
    this.making ??= this.deferred.make();
    const making = this.making;
    for (;;) {
      const until = performance.now() + sliceMs;
      let step = making.next();
      while (!step.done && performance.now() < until) step = making.next();
      if (step.done) {
        this.madeFrom(step.value);
        return;
      }
      await new Promise((resolve) => setImmediate(resolve));
      // Finished meanwhile by a synchronous reader of `relations`.
      if (this.making !== making) return;
    }
  }
  /** Bumped by every change. */
  version = 0;
  /** True only inside {@link buildGraphIndex}: every callable is recomputed at the end anyway. */
  bulkLoading = false;
  /** Key of the next relation edge (edge keys are never reused). */
  nextEdgeKey = 0;
}

type RelationsGraph = DirectedGraph<NodeAttributes, RelationAttributes>;

export function newRelationsGraph(): RelationsGraph {
  return new DirectedGraph<NodeAttributes, RelationAttributes>({ allowSelfLoops: true });
}

/** What a saved index hands its GraphIndex: node attributes at once, the relations graph on demand. */
export interface DeferredRelations {
  node(ref: string): NodeAttributes | undefined;
  /** The refs of one short name, preferred first. */
  named(name: string): string[];
  /** Every short name → its refs, preferred first. */
  names(): Map<string, string[]>;
  /**
   * Makes the relations graph, pausing (yield) every few thousand nodes or edges, so that a caller with
   * time can make it in slices (GraphIndex.prepareRelations) while a caller without runs it to the end.
   */
  make(): Generator<void, MadeRelations, void>;
}

interface MadeRelations {
  relations: RelationsGraph;
  apiProviders: Map<string, Set<string>>;
  nextEdgeKey: number;
}

export interface EntityChanges {
  upserted?: readonly Entity[];
  /** Refs (`kind:namespace/name`) of entities that no longer exist. */
  removed?: readonly string[];
}

export interface ChangeSummary {
  version: number;
  upserted: number;
  removed: number;
  /** Caller nodes whose declared call edges were recomputed. */
  recomputedCallers: number;
}

/** One observed call, e.g. from traces. Unknown refs become placeholder nodes, never dropped. */
export interface ObservedEdgeInput extends ObservedFacts {
  from: string;
  to: string;
}

/** Builds the index from entities whose relations are already computed (both directions). */
export function buildGraphIndex(entities: readonly Entity[]): GraphIndex {
  const index = new GraphIndex();
  index.calls.beginBulk();
  index.bulkLoading = true;
  try {
    applyChanges(index, { upserted: entities });
  } finally {
    index.bulkLoading = false;
    index.calls.endBulk();
  }
  // Node cards of every call node, so the first query after start does not make thousands of them.
  const cards = callCards(index);
  for (const id of index.calls.ids.values()) cardOf(cards, index, id);
  return index;
}

/**
 * Applies upserts and removals in one synchronous step, touching only the changed entities, their edges and
 * the callers whose `consumesApi` resolution changed. All input is checked before anything is changed, so a
 * bad change leaves the index as it was.
 */
export function applyChanges(index: GraphIndex, changes: EntityChanges): ChangeSummary {
  const upserted = changes.upserted ?? [];
  const removed = changes.removed ?? [];
  const prepared = upserted.map((entity, i) => prepareEntity(entity, i));
  const removedRefs = removed.map((ref, i) => checkRef(ref, `applyChanges: removed[${i}]`));

  const dirty = new Set<string>();
  const touched = new Set<string>();
  for (const ref of removedRefs) removeEntity(index, ref, dirty, touched);
  for (const entity of prepared) upsertEntity(index, entity, dirty, touched);
  for (const caller of dirty) recomputeDeclaredCalls(index, caller, touched);
  for (const ref of touched) dropIfUnused(index, ref);
  forgetCards(
    index,
    [...removedRefs, ...prepared.map((e) => e.attributes.ref)],
    prepared.some((e) => e.attributes.kind === 'group') || removedRefs.some((r) => r.startsWith('group:')),
  );
  index.version++;
  return {
    version: index.version,
    upserted: prepared.length,
    removed: removedRefs.length,
    recomputedCallers: dirty.size,
  };
}

/** Records one observed call edge (see {@link mergeObserved}). */
export function addObservedEdge(index: GraphIndex, edge: ObservedEdgeInput): void {
  mergeObserved(index, [edge]);
}

/**
 * Merges observed call edges into the index in one step. With `replace`, observed marks on edges not in
 * `edges` are removed, so the index holds exactly the latest observation window.
 */
export function mergeObserved(
  index: GraphIndex,
  edges: readonly ObservedEdgeInput[],
  options: { replace?: boolean } = {},
): { observedEdges: number } {
  const checked = edges.map((e, i) => ({
    ...e,
    from: checkRef(e.from, `mergeObserved: edges[${i}].from`),
    to: checkRef(e.to, `mergeObserved: edges[${i}].to`),
  }));
  const touched = new Set<string>();
  const keep = new Set(checked.map((e) => `${e.from}\n${e.to}`));
  if (options.replace) {
    const stale: [string, string][] = [];
    index.calls.forEachEdge((a, src, dst) => {
      if (a.observed && !keep.has(`${src}\n${dst}`)) stale.push([src, dst]);
    });
    for (const [src, dst] of stale) {
      writeCallEdge(index, src, dst, undefined, null);
      touched.add(src).add(dst);
    }
  }
  for (const e of checked) {
    for (const ref of [e.from, e.to]) {
      ensureNode(index, ref);
      ensureCallNode(index, ref);
    }
    const facts: ObservedFacts = {};
    if (e.count !== undefined) facts.count = e.count;
    if (e.firstSeen !== undefined) facts.firstSeen = e.firstSeen;
    if (e.lastSeen !== undefined) facts.lastSeen = e.lastSeen;
    writeCallEdge(index, e.from, e.to, undefined, facts);
  }
  for (const ref of touched) dropIfUnused(index, ref);
  index.version++;
  let observedEdges = 0;
  index.calls.forEachEdge((a) => {
    if (a.observed) observedEdges++;
  });
  return { observedEdges };
}

/** Removes the observed mark from one edge (the declared part, if any, stays). */
export function removeObservedEdge(index: GraphIndex, from: string, to: string): void {
  const src = checkRef(from, 'removeObservedEdge: from');
  const dst = checkRef(to, 'removeObservedEdge: to');
  if (!index.calls.hasEdge(src, dst)) return;
  writeCallEdge(index, src, dst, undefined, null);
  dropIfUnused(index, src);
  dropIfUnused(index, dst);
  index.version++;
}

// ---------------------------------------------------------------------------------------------------------

interface PreparedEntity {
  attributes: NodeAttributes;
  /** target → relation types. */
  edges: Map<string, string[]>;
}

const REF_PATTERN = /^[a-z0-9][a-z0-9_.-]*:[a-z0-9][a-z0-9_.-]*\/[a-z0-9][a-z0-9_.-]*$/;

/**
 * Refs already checked, each mapped to one shared copy: relation targets repeat (owners, APIs, systems), so
 * each is checked once, and every map and graphology adjacency object is keyed by the same string object
 * (V8 then hashes and internalizes it once instead of once per relation).
 */
const checkedRefs = new Map<string, string>();

function checkRef(ref: unknown, where: string): string {
  if (typeof ref === 'string') {
    const known = checkedRefs.get(ref);
    if (known !== undefined) return known;
  }
  const lower = typeof ref === 'string' ? ref.trim().toLowerCase() : '';
  if (!REF_PATTERN.test(lower)) {
    throw new GraphQueryError(
      `${where}: expected a ref like 'component:default/card-api', got ${JSON.stringify(ref)}`,
      {
        ref,
      },
    );
  }
  const known = checkedRefs.get(lower);
  if (known !== undefined) return known;
  if (checkedRefs.size < 1_000_000) {
    checkedRefs.set(lower, lower);
    if (ref !== lower && typeof ref === 'string') checkedRefs.set(ref, lower);
  }
  return lower;
}

function prepareEntity(entity: Entity, i: number): PreparedEntity {
  const where = `applyChanges: upserted[${i}]`;
  if (typeof entity?.kind !== 'string' || typeof entity.metadata?.name !== 'string') {
    throw new GraphQueryError(`${where}: an entity needs a kind and metadata.name`);
  }
  const namespace = entity.metadata.namespace ?? 'default';
  const ref = checkRef(`${entity.kind}:${namespace}/${entity.metadata.name}`, where);
  const parts = splitRef(ref);
  const annotations = entity.metadata.annotations ?? {};
  const spec = (entity.spec ?? {}) as Record<string, unknown>;
  const attributes: NodeAttributes = {
    ref,
    kind: parts.kind,
    namespace: parts.namespace,
    name: parts.name,
    present: true,
  };
  if (typeof entity.metadata.title === 'string') attributes.title = entity.metadata.title;
  const tier = annotations[ANNOTATION.tier];
  if (typeof tier === 'string' && /^[1-9]$/.test(tier.trim())) attributes.tier = Number(tier.trim());
  if (annotations[ANNOTATION.oncall]) attributes.oncall = annotations[ANNOTATION.oncall];
  if (annotations[ANNOTATION.runbook]) attributes.runbook = annotations[ANNOTATION.runbook];
  if (annotations[ANNOTATION.slack]) attributes.slack = annotations[ANNOTATION.slack];
  if (typeof spec.type === 'string') attributes.type = spec.type;
  if (typeof spec.lifecycle === 'string') attributes.lifecycle = spec.lifecycle;

  const edges = new Map<string, string[]>();
  const relations = entity.relations ?? [];
  if (!Array.isArray(relations)) throw new GraphQueryError(`${where} (${ref}): relations must be an array`);
  relations.forEach((relation, r) => {
    if (typeof relation?.type !== 'string') {
      throw new GraphQueryError(`${where} (${ref}): relations[${r}] has no type`);
    }
    // The stored side of the pair carries the edge (catalog's one rule table).
    if (DERIVED_RELATIONS.has(relation.type)) return;
    const target = checkRef(relation.targetRef, `${where} (${ref}): relations[${r}].targetRef`);
    const types = edges.get(target);
    if (!types) edges.set(target, [relation.type]);
    else if (!types.includes(relation.type)) types.push(relation.type);
    if (relation.type === 'ownedBy' && attributes.owner === undefined) attributes.owner = target;
    if (relation.type === 'childOf' && attributes.parent === undefined) attributes.parent = target;
  });
  return { attributes, edges };
}

function addName(index: GraphIndex, ref: string, name: string): void {
  const refs = index.names.get(name);
  if (!refs) {
    index.names.set(name, [ref]);
    return;
  }
  refs.push(ref);
  refs.sort(compareForShortName);
}

function removeName(index: GraphIndex, ref: string, name: string): void {
  const refs = index.names.get(name);
  if (!refs) return;
  const i = refs.indexOf(ref);
  if (i >= 0) refs.splice(i, 1);
  if (refs.length === 0) index.names.delete(name);
}

function ensureNode(index: GraphIndex, ref: string): void {
  if (index.relations.hasNode(ref)) return;
  const parts = splitRef(ref);
  index.relations.addNode(ref, {
    ref,
    kind: parts.kind,
    namespace: parts.namespace,
    name: parts.name,
    present: false,
  });
  addName(index, ref, parts.name);
}

function ensureCallNode(index: GraphIndex, ref: string): void {
  index.calls.addNode(ref);
}

function dropIfUnused(index: GraphIndex, ref: string): void {
  if (!index.relations.hasNode(ref)) return;
  const attributes = index.relations.getNodeAttributes(ref);
  const callDegree = index.calls.degree(ref);
  if (attributes.present || index.relations.degree(ref) > 0 || callDegree > 0) return;
  index.relations.dropNode(ref);
  index.calls.dropNode(ref);
  removeName(index, ref, attributes.name);
}

/** APIs `ref` provides, from its stored relations. */
function providedApis(index: GraphIndex, ref: string): Set<string> {
  const apis = new Set<string>();
  index.relations.forEachOutEdge(ref, (_e, attributes, _s, api) => {
    if (attributes.types.includes('providesApi')) apis.add(api);
  });
  return apis;
}

/**
 * Records that `ref` now provides `next` instead of `previous`. Only the consumers of an API whose set of
 * providers changed need their call edges recomputed: a provider re-ingested unchanged costs nothing.
 */
function updateProvider(
  index: GraphIndex,
  ref: string,
  previous: Set<string>,
  next: Set<string>,
  dirty: Set<string>,
): void {
  const changed = (api: string) => {
    // A fresh build recomputes every caller anyway.
    if (index.bulkLoading) return;
    index.relations.forEachInEdge(api, (_e, a, consumer) => {
      if (a.types.includes('consumesApi')) dirty.add(consumer);
    });
  };
  for (const api of previous) {
    if (next.has(api)) continue;
    const providers = index.apiProviders.get(api);
    providers?.delete(ref);
    if (providers?.size === 0) index.apiProviders.delete(api);
    changed(api);
  }
  for (const api of next) {
    if (previous.has(api)) continue;
    const providers = index.apiProviders.get(api);
    if (providers) providers.add(ref);
    else index.apiProviders.set(api, new Set([ref]));
    if (index.relations.hasNode(api)) changed(api);
  }
}

function dropOutgoingRelations(index: GraphIndex, ref: string, touched: Set<string>): void {
  const edges: string[] = [];
  index.relations.forEachOutEdge(ref, (edge, _a, _s, target) => {
    edges.push(edge);
    touched.add(target);
  });
  for (const edge of edges) index.relations.dropEdge(edge);
}

function removeEntity(index: GraphIndex, ref: string, dirty: Set<string>, touched: Set<string>): void {
  if (!index.relations.hasNode(ref)) return;
  const attributes = index.relations.getNodeAttributes(ref);
  if (!attributes.present) return;
  updateProvider(index, ref, providedApis(index, ref), new Set(), dirty);
  dropOutgoingRelations(index, ref, touched);
  index.relations.replaceNodeAttributes(ref, {
    ref,
    kind: attributes.kind,
    namespace: attributes.namespace,
    name: attributes.name,
    present: false,
  });
  if (isCallable(attributes.kind)) dirty.add(ref);
  touched.add(ref);
}

const NO_APIS: Set<string> = new Set();

function upsertEntity(
  index: GraphIndex,
  entity: PreparedEntity,
  dirty: Set<string>,
  touched: Set<string>,
): void {
  const ref = entity.attributes.ref;
  let previousApis: Set<string> = NO_APIS;
  if (index.relations.hasNode(ref)) {
    previousApis = providedApis(index, ref);
    dropOutgoingRelations(index, ref, touched);
    index.relations.replaceNodeAttributes(ref, entity.attributes);
  } else {
    // A new node has no edges and provides nothing yet.
    index.relations.addNode(ref, entity.attributes);
    addName(index, ref, entity.attributes.name);
  }
  for (const [target, types] of entity.edges) {
    ensureNode(index, target);
    // Own keys: graphology's generated ones cost a string concatenation and a look-up loop per edge.
    index.relations.addDirectedEdgeWithKey(`${index.nextEdgeKey++}`, ref, target, { types: types.sort() });
  }
  const nextApis = new Set<string>();
  for (const [target, types] of entity.edges) if (types.includes('providesApi')) nextApis.add(target);
  updateProvider(index, ref, previousApis, nextApis, dirty);
  if (isCallable(entity.attributes.kind)) {
    ensureCallNode(index, ref);
    dirty.add(ref);
  }
}

/** The declared part of one call edge: kinds as bits (1 dependsOn, 2 consumesApi) and the APIs it goes through. */
interface Declared {
  kinds: number;
  apis: string[] | null;
}

const DEPENDS_ON_BIT = 1;
const CONSUMES_API_BIT = 2;

function addDeclared(wanted: Map<string, Declared>, callee: string, bit: number, api: string | null): void {
  const d = wanted.get(callee);
  if (!d) {
    wanted.set(callee, { kinds: bit, apis: api === null ? null : [api] });
    return;
  }
  d.kinds |= bit;
  if (api !== null) {
    if (d.apis === null) d.apis = [api];
    else if (!d.apis.includes(api)) d.apis.push(api);
  }
}

function declaredCallsOf(index: GraphIndex, caller: string): Map<string, Declared> {
  const wanted = new Map<string, Declared>();
  if (!index.relations.hasNode(caller)) return wanted;
  const attributes = index.relations.getNodeAttributes(caller);
  if (!attributes.present || !isCallable(attributes.kind)) return wanted;
  index.relations.forEachOutEdge(caller, (_e, relation, _s, target) => {
    const types = relation.types;
    if (types.includes('dependsOn') && isCallable(index.relations.getNodeAttribute(target, 'kind'))) {
      addDeclared(wanted, target, DEPENDS_ON_BIT, null);
    }
    if (types.includes('consumesApi')) {
      const providers = index.apiProviders.get(target);
      if (!providers) return;
      for (const provider of providers) {
        if (isCallable(index.relations.getNodeAttribute(provider, 'kind'))) {
          addDeclared(wanted, provider, CONSUMES_API_BIT, target);
        }
      }
    }
  });
  return wanted;
}

function recomputeDeclaredCalls(index: GraphIndex, caller: string, touched: Set<string>): void {
  const wanted = declaredCallsOf(index, caller);
  const stale: string[] = [];
  index.calls.forEachOutEdge(caller, (attributes, _s, callee) => {
    if (attributes.kinds.length > 0 && !wanted.has(callee)) stale.push(callee);
  });
  for (const callee of stale) {
    writeCallEdge(index, caller, callee, null, undefined);
    touched.add(callee);
  }
  if (wanted.size > 0) ensureCallNode(index, caller);
  for (const [callee, declared] of wanted) {
    ensureCallNode(index, callee);
    writeCallEdge(index, caller, callee, declared, undefined);
  }
  // The caller itself needs no cleanup check: only present entities have relations, and a removed one
  // was already marked touched by removeEntity.
}

// Shared, never mutated: most of the estate's 200,000 call edges have one of these few shapes.
const NONE: never[] = [];
const DECLARED_ONLY: EdgeSource[] = ['declared'];
const OBSERVED_ONLY: EdgeSource[] = ['observed'];
const BOTH: EdgeSource[] = ['declared', 'observed'];
const DEPENDS_ON: CallKind[] = ['dependsOn'];
const CONSUMES_API: CallKind[] = ['consumesApi'];
const BOTH_KINDS: CallKind[] = ['consumesApi', 'dependsOn'];

function kindsOf(bits: number): CallKind[] {
  if (bits === (DEPENDS_ON_BIT | CONSUMES_API_BIT)) return BOTH_KINDS;
  if (bits === DEPENDS_ON_BIT) return DEPENDS_ON;
  return bits === CONSUMES_API_BIT ? CONSUMES_API : NONE;
}

/**
 * Sets the declared and/or observed part of one call edge (`undefined` keeps a part, `null` clears it),
 * An edge with neither part is removed.
 */
function writeCallEdge(
  index: GraphIndex,
  src: string,
  dst: string,
  declared: Declared | null | undefined,
  observed: ObservedFacts | null | undefined,
): void {
  const existing = index.calls.getEdgeAttributes(src, dst);
  const kinds =
    declared === undefined ? (existing?.kinds ?? NONE) : declared ? kindsOf(declared.kinds) : NONE;
  const apis =
    declared === undefined ? (existing?.apis ?? NONE) : declared?.apis ? declared.apis.sort() : NONE;
  const observedFacts =
    observed === undefined ? existing?.observed : observed === null ? undefined : observed;
  const sources =
    kinds.length > 0 ? (observedFacts ? BOTH : DECLARED_ONLY) : observedFacts ? OBSERVED_ONLY : NONE;
  if (sources.length === 0) {
    index.calls.setEdge(src, dst, null);
    return;
  }
  const attributes: CallEdgeAttributes = { kinds, apis, sources };
  if (observedFacts) attributes.observed = observedFacts;
  index.calls.setEdge(src, dst, attributes);
}

/** Number of relations (an edge between two entities can carry several relation types). */
export function relationCount(index: GraphIndex): number {
  let n = 0;
  index.relations.forEachEdge((_e, a) => {
    n += a.types.length;
  });
  return n;
}
