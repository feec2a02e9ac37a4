import type { Entity, EntityRelation } from '@backstage/catalog-model';
import { entityRef, parseRef, RefError, stringifyRef } from './ref.ts';

/**
 * The relation rules of Backstage's catalog: a spec field, the kind its short refs default to, and the
 * relation pair it emits. Every relation is emitted in both directions.
 */
interface RelationRule {
  kinds: string[];
  field: string;
  defaultKind?: string;
  forward: string;
  reverse: string;
  /** The bank requires these targets to exist, and of these kinds. */
  mustExist: boolean;
  targetKinds?: string[];
}

export const RELATION_RULES: RelationRule[] = [
  {
    kinds: ['component', 'api', 'resource', 'system', 'domain', 'template'],
    field: 'owner',
    defaultKind: 'group',
    forward: 'ownedBy',
    reverse: 'ownerOf',
    mustExist: true,
    targetKinds: ['group'],
  },
  {
    kinds: ['component'],
    field: 'subcomponentOf',
    defaultKind: 'component',
    forward: 'partOf',
    reverse: 'hasPart',
    mustExist: true,
  },
  {
    kinds: ['component', 'api', 'resource'],
    field: 'system',
    defaultKind: 'system',
    forward: 'partOf',
    reverse: 'hasPart',
    mustExist: true,
  },
  {
    kinds: ['system'],
    field: 'domain',
    defaultKind: 'domain',
    forward: 'partOf',
    reverse: 'hasPart',
    mustExist: true,
  },
  {
    kinds: ['domain'],
    field: 'subdomainOf',
    defaultKind: 'domain',
    forward: 'partOf',
    reverse: 'hasPart',
    mustExist: true,
  },
  {
    kinds: ['component'],
    field: 'providesApis',
    defaultKind: 'api',
    forward: 'providesApi',
    reverse: 'apiProvidedBy',
    mustExist: true,
  },
  {
    kinds: ['component'],
    field: 'consumesApis',
    defaultKind: 'api',
    forward: 'consumesApi',
    reverse: 'apiConsumedBy',
    mustExist: true,
  },
  {
    kinds: ['component', 'resource'],
    field: 'dependsOn',
    forward: 'dependsOn',
    reverse: 'dependencyOf',
    mustExist: true,
  },
  {
    kinds: ['component', 'resource'],
    field: 'dependencyOf',
    forward: 'dependencyOf',
    reverse: 'dependsOn',
    mustExist: true,
  },
  {
    kinds: ['user'],
    field: 'memberOf',
    defaultKind: 'group',
    forward: 'memberOf',
    reverse: 'hasMember',
    mustExist: true,
    targetKinds: ['group'],
  },
  {
    kinds: ['group'],
    field: 'members',
    defaultKind: 'user',
    forward: 'hasMember',
    reverse: 'memberOf',
    mustExist: true,
    targetKinds: ['user'],
  },
  {
    kinds: ['group'],
    field: 'parent',
    defaultKind: 'group',
    forward: 'childOf',
    reverse: 'parentOf',
    mustExist: true,
    targetKinds: ['group'],
  },
  {
    kinds: ['group'],
    field: 'children',
    defaultKind: 'group',
    forward: 'parentOf',
    reverse: 'childOf',
    mustExist: true,
    targetKinds: ['group'],
  },
];

/**
 * Relations come in pairs (A dependsOn B ⇔ B dependencyOf A), so the store keeps one side of each pair and
 * derives the other when it loads: half the rows to write. Stored type → its inverse.
 */
export const STORED_RELATIONS: ReadonlyMap<string, string> = (() => {
  const stored = new Map<string, string>();
  const derived = new Set<string>();
  for (const { forward, reverse } of RELATION_RULES) {
    if (stored.has(forward) || stored.has(reverse) || derived.has(forward) || derived.has(reverse)) continue;
    stored.set(forward, reverse);
    derived.add(reverse);
  }
  return stored;
})();

/** The other side of each pair (ownerOf, hasPart, dependencyOf …): derived on load, never stored or indexed. */
export const DERIVED_RELATIONS: ReadonlySet<string> = new Set(STORED_RELATIONS.values());

export interface RefProblem {
  /** The entity whose field is wrong. */
  entityRef: string;
  path: (string | number)[];
  message: string;
}

interface Target {
  path: (string | number)[];
  raw: string;
  ref?: string;
  error?: string;
}

function targetsOf(entity: Entity, rule: RelationRule): Target[] {
  const spec = (entity.spec ?? {}) as Record<string, unknown>;
  const value = spec[rule.field];
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  const namespace = entity.metadata.namespace ?? 'default';
  return list.map((raw, i) => {
    const path: (string | number)[] = Array.isArray(value) ? ['spec', rule.field, i] : ['spec', rule.field];
    if (typeof raw !== 'string')
      return { path, raw: String(raw), error: `"spec.${rule.field}" entries must be entity refs (strings)` };
    try {
      return { path, raw, ref: stringifyRef(parseRef(raw, { kind: rule.defaultKind, namespace })) };
    } catch (err) {
      const why = err instanceof RefError ? err.message : String(err);
      const hint = rule.defaultKind
        ? ''
        : ` "spec.${rule.field}" has no default kind: write e.g. component:${raw} or resource:${raw}`;
      return { path, raw, error: `${why}.${hint}` };
    }
  });
}

/**
 * Check that every ref an entity makes points at an entity in `known` (and of the right kind where the
 * bank requires it). Returns one problem per bad ref, naming the field and the closest names.
 */
export function checkReferences(
  entity: Entity,
  known: ReadonlySet<string>,
  suggest: (raw: string, kind?: string) => string[],
  /** Whether a target must be of the kinds the bank requires (an owner a Group); Backstage does not. */
  opts: { targetKinds?: boolean } = {},
): RefProblem[] {
  const ref = entityRef(entity);
  const kind = entity.kind.toLowerCase();
  const problems: RefProblem[] = [];
  for (const rule of RELATION_RULES) {
    if (!rule.kinds.includes(kind) || !rule.mustExist) continue;
    for (const t of targetsOf(entity, rule)) {
      if (t.error) {
        problems.push({ entityRef: ref, path: t.path, message: t.error });
        continue;
      }
      const target = t.ref as string;
      const targetKind = target.slice(0, target.indexOf(':'));
      if (opts.targetKinds !== false && rule.targetKinds && !rule.targetKinds.includes(targetKind)) {
        problems.push({
          entityRef: ref,
          path: t.path,
          message: `"spec.${rule.field}" must refer to a ${rule.targetKinds.join(' or ')}, but "${t.raw}" is a ${targetKind}`,
        });
        continue;
      }
      if (!known.has(target)) {
        const suggestions = suggest(t.raw, rule.defaultKind ?? targetKind);
        const what = rule.field === 'owner' ? 'owner' : `"spec.${rule.field}" target`;
        problems.push({
          entityRef: ref,
          path: t.path,
          message: `${what} "${t.raw}" does not exist in the catalogue (${target})${suggestions.length ? `; did you mean ${suggestions.join(', ')}?` : ''}`,
        });
      }
    }
  }
  return problems;
}

/**
 * Relations of every entity, both directions, as Backstage emits them: `{type, targetRef}` sorted and
 * de-duplicated. Targets that are not in `known` are left out (the reference check reports them).
 */
export function computeRelations(
  entities: Iterable<Entity>,
  known: ReadonlySet<string>,
  opts: { shareStrings?: boolean } = {},
): Map<string, EntityRelation[]> {
  // Lists are collected, then sorted and de-duplicated in place: no per-relation key strings.
  const out = new Map<string, EntityRelation[]>();
  // One string per ref, shared by every relation that names it: at 100k entities and a million relations
  // the copies would cost hundreds of MB. (Not worth building for a handful of entities.)
  const canonical = new Map<string, string>();
  if (opts.shareStrings !== false) for (const ref of known) canonical.set(ref, ref);
  const listOf = (source: string) => {
    let list = out.get(source);
    if (!list) {
      list = [];
      out.set(source, list);
    }
    return list;
  };
  for (const entity of entities) {
    const source = canonical.get(entityRef(entity)) ?? entityRef(entity);
    const own = listOf(source);
    const kind = entity.kind.toLowerCase();
    for (const rule of RELATION_RULES) {
      if (!rule.kinds.includes(kind)) continue;
      for (const t of targetsOf(entity, rule)) {
        if (!t.ref || !known.has(t.ref)) continue;
        const target = canonical.get(t.ref) ?? t.ref;
        own.push({ type: rule.forward, targetRef: target });
        listOf(target).push({ type: rule.reverse, targetRef: source });
      }
    }
  }
  for (const list of out.values()) sortRelations(list);
  return out;
}

/**
 * The relation lists that change when some entities change, are added or are removed: the same answer as
 * comparing computeRelations before and after, from only the entities involved. An entity's relations come
 * from its own spec and from the specs of the entities related to it, so each list that a change touches is
 * recomputed from its owner and its old partners (relations are symmetric: the targets in its old list); new
 * partners are changed entities themselves. When the set of refs changes (`knownBefore` differs from
 * `known`), entities whose references do not all resolve, before or after (the ingester's stale ones), must be passed
 * as changed too ({ before: e, after: e }): a ref appearing or going changes what they emit. (Any other entity
 * that referred to a removed one has changed: it fails its reference check.) Lists that end up empty come back
 * empty.
 */
export function changedRelations(
  before: ReadonlyMap<string, EntityRelation[]>,
  changed: readonly { before?: Entity; after?: Entity }[],
  entityOf: (ref: string) => Entity | undefined,
  known: ReadonlySet<string>,
  knownBefore: ReadonlySet<string> = known,
): Map<string, EntityRelation[]> {
  const out = new Map<string, EntityRelation[]>();
  if (changed.length === 0) return out;
  const affected = new Set<string>();
  const touch = (entity: Entity, refs: ReadonlySet<string>) => {
    for (const ref of computeRelations([entity], refs, { shareStrings: false }).keys()) affected.add(ref);
  };
  for (const c of changed) {
    if (c.before) touch(c.before, knownBefore);
    if (c.after) touch(c.after, known);
  }
  const involved = new Set<string>();
  for (const ref of affected) {
    involved.add(ref);
    for (const r of before.get(ref) ?? []) involved.add(r.targetRef);
  }
  const entities: Entity[] = [];
  for (const ref of involved) {
    const e = entityOf(ref);
    if (e) entities.push(e);
  }
  const now = computeRelations(entities, known, { shareStrings: false });
  for (const ref of affected) {
    const list = now.get(ref) ?? [];
    if (!sameRelations(before.get(ref), list)) out.set(ref, list);
  }
  return out;
}

/** Two relation lists (sorted as computeRelations sorts them) are the same. */
export function sameRelations(
  a: readonly EntityRelation[] | undefined,
  b: readonly EntityRelation[],
): boolean {
  if (!a) return b.length === 0;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++)
    if (a[i].type !== b[i].type || a[i].targetRef !== b[i].targetRef) return false;
  return true;
}

const byTypeThenTarget = (a: EntityRelation, b: EntityRelation) =>
  a.type === b.type
    ? a.targetRef < b.targetRef
      ? -1
      : a.targetRef > b.targetRef
        ? 1
        : 0
    : a.type < b.type
      ? -1
      : 1;

/** Sort a relation list by type then target and drop repeats, in place: the order Backstage's API shows. */
export function sortRelations(list: EntityRelation[]): EntityRelation[] {
  list.sort(byTypeThenTarget);
  let w = 0;
  for (let r = 0; r < list.length; r++) {
    if (w > 0 && list[w - 1].type === list[r].type && list[w - 1].targetRef === list[r].targetRef) continue;
    list[w++] = list[r];
  }
  list.length = w;
  return list;
}

/**
 * The relations an entity names whose targets are not in the catalogue (Backstage keeps them: the entity
 * page shows the target as missing). Forward direction only: there is no entity on the other side.
 */
export function danglingRelations(entity: Entity, known: ReadonlySet<string>): EntityRelation[] {
  const out: EntityRelation[] = [];
  const spec = (entity.spec ?? {}) as Record<string, unknown>;
  const namespace = entity.metadata.namespace ?? 'default';
  for (const rule of rulesOfKind(entity.kind.toLowerCase())) {
    const value = spec[rule.field];
    if (value === undefined || value === null) continue;
    const refs = targetRefsIn(rule.defaultKind, namespace);
    for (const raw of Array.isArray(value) ? value : [value]) {
      const ref = targetRef(raw, rule.defaultKind, namespace, refs);
      if (ref && !known.has(ref)) out.push({ type: rule.forward, targetRef: ref });
    }
  }
  return out;
}

/** The relation rules that apply to a kind, in RELATION_RULES's order. */
function rulesOfKind(kind: string): RelationRule[] {
  let rules = rulesByKind.get(kind);
  if (!rules) {
    rules = RELATION_RULES.filter((rule) => rule.kinds.includes(kind));
    rulesByKind.set(kind, rules);
  }
  return rules;
}
const rulesByKind = new Map<string, RelationRule[]>();

/**
 * The ref a spec target names, as targetsOf reads it (undefined when it names none), remembered per default
 * kind and namespace: a view of 125,000 entities asks this for every target, and owners, systems and APIs
 * repeat across thousands.
 */
function targetRef(
  raw: unknown,
  defaultKind: string | undefined,
  namespace: string,
  known: Map<string, string | null>,
): string | undefined {
  if (typeof raw !== 'string') return undefined;
  let ref = known.get(raw);
  if (ref === undefined) {
    try {
      ref = stringifyRef(parseRef(raw, { kind: defaultKind, namespace }));
    } catch {
      ref = null;
    }
    if (rememberedTargets >= 500_000) {
      targetRefs.clear();
      rememberedTargets = 0;
      known = targetRefsIn(defaultKind, namespace);
    }
    known.set(raw, ref);
    rememberedTargets++;
  }
  return ref ?? undefined;
}

function targetRefsIn(defaultKind: string | undefined, namespace: string): Map<string, string | null> {
  const key = `${defaultKind ?? ''}\0${namespace}`;
  let refs = targetRefs.get(key);
  if (!refs) {
    refs = new Map();
    targetRefs.set(key, refs);
  }
  return refs;
}
/** Remembered targets: default kind and namespace → the raw target → its ref (null: names none). */
const targetRefs = new Map<string, Map<string, string | null>>();
let rememberedTargets = 0;
