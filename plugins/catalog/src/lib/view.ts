import type { Entity, EntityRelation, StoredEntity } from '@bank/catalog';
// By module rather than through @bank/catalog's index: the CLI builds a view from a snapshot without
// loading the store (Prisma) that the index brings in.
import {
  ANNOTATION,
  closestRefs,
  danglingRelations,
  RefError,
  type RefLookup,
  refLookup,
  resolveRef,
  sortRelations,
  toRef,
} from '@bank/catalog/model';
// The collective rule alone (no graph index is needed to ask it of the view's own entities).
import { nearestCollective } from '@bank/graph/card';

/** An entity as served: the stored descriptor plus its relations, and a `status` when stale. */
export type ServedEntity = Entity & { relations: EntityRelation[] };

/**
 * The JSON text of each stored descriptor, written once: stored entities are never edited (an ingest stores a
 * new object for a changed one), so every later view reuses it and serves an entity by splicing its relations
 * into that text instead of stringifying the whole object per request.
 */
const descriptorText = new WeakMap<Entity, string>();

/**
 * A read-only view of the catalogue at one moment, built from the ingester's snapshot. Every reader (CLI,
 * HTTP, UI) goes through it; a new ingest makes a new view, so a reader never sees half an ingest.
 */
export class CatalogView {
  readonly byRef = new Map<string, ServedEntity>();
  readonly stale = new Set<string>();
  readonly refs: ReadonlySet<string>;
  /** Each served entity's JSON text once asked for (see json()). */
  private readonly text = new WeakMap<ServedEntity, string>();
  private readonly utf8 = new WeakMap<ServedEntity, Buffer<ArrayBuffer>>();
  /** Answers that depend only on this view (it never changes): filtered lists, facets. Bounded. */
  private readonly memo = new Map<string, unknown>();
  /** Whole answers as bytes (pages of lists), apart from memo so a long walk never evicts its filtered list. */
  private readonly answers = new Map<string, { answer: unknown; bytes: number }>();
  private answerBytes = 0;

  constructor(entities: Map<string, StoredEntity>, relations: Map<string, EntityRelation[]>) {
    for (const [ref, e] of entities) {
      const served = { ...e.entity } as ServedEntity;
      // Relations to targets not in the catalogue are served as Backstage serves them (a by-refs lookup of
      // the target answers null): the store and the graph keep only relations between entities that exist.
      // Found when an entity's relations are first read, not for all 125,000 entities of a 35,000-service
      // catalogue each time a view is made (about a second at start and after every ingest).
      Object.defineProperty(served, 'relations', RELATIONS);
      servedState.set(served, { view: this, source: e.entity, stored: relations.get(ref) ?? [] });
      if (e.stale) {
        this.stale.add(ref);
        (served as Entity & { status?: unknown }).status = {
          items: [
            {
              type: 'backstage.io/catalog-processing',
              level: 'error',
              message:
                `Stale: its file has an error, the last good version is shown. ${e.staleReason ?? ''}`.trim(),
            },
          ],
        };
      }
      this.byRef.set(ref, served);
    }
    this.refs = new Set(this.byRef.keys());
  }

  get size(): number {
    return this.byRef.size;
  }

  all(): ServedEntity[] {
    return [...this.byRef.values()];
  }

  /**
   * The entity as JSON, exactly the text `JSON.stringify(entity)` gives, made once per entity and view: pages
   * and by-ref answers are put together from these texts. Only for the objects this view serves, unchanged.
   */
  json(entity: ServedEntity): string {
    let text = this.text.get(entity);
    if (text === undefined) {
      text = this.textOf(entity);
      this.text.set(entity, text);
    }
    return text;
  }

  /**
   * json(entity) as UTF-8, made once per entity and view: a page is these bytes put side by side, with no text
   * joined, flattened and encoded again per request.
   */
  bytes(entity: ServedEntity): Buffer<ArrayBuffer> {
    let bytes = this.utf8.get(entity);
    if (bytes === undefined) {
      bytes = Buffer.from(this.text.get(entity) ?? this.textOf(entity));
      this.utf8.set(entity, bytes);
    }
    return bytes;
  }

  private textOf(entity: ServedEntity): string {
    return spliced(entity, servedState.get(entity)?.source) ?? JSON.stringify(entity);
  }

  /**
   * `make()`'s answer for `key`, computed once per view (a view never changes, so neither does the answer):
   * the same filter over every page of a walk, the same facets again. At most MEMO_ENTRIES kept.
   */
  remember<T>(key: string, make: () => T): T {
    if (this.memo.has(key)) return this.memo.get(key) as T;
    const value = make();
    if (this.memo.size >= MEMO_ENTRIES) this.memo.delete(this.memo.keys().next().value as string);
    this.memo.set(key, value);
    return value;
  }

  /**
   * `make()`'s answer for `key`, kept for this view while the kept answers' bytes (`bytesOf`) fit in
   * ANSWER_CACHE_BYTES, oldest dropped first: the same page asked again (a dashboard, a client polling) is sent
   * as it is, not put together and copied anew. An answer over a quarter of the budget is not kept.
   */
  rememberAnswer<T>(key: string, make: () => T, bytesOf: (answer: T) => number): T {
    const kept = this.answers.get(key);
    if (kept) return kept.answer as T;
    const answer = make();
    const bytes = bytesOf(answer);
    if (bytes > ANSWER_CACHE_BYTES / 4) return answer;
    for (const [k, a] of this.answers) {
      if (this.answerBytes + bytes <= ANSWER_CACHE_BYTES) break;
      this.answers.delete(k);
      this.answerBytes -= a.bytes;
    }
    this.answers.set(key, { answer, bytes });
    this.answerBytes += bytes;
    return answer;
  }

  /** The view's refs and short names, as the catalogue's ref resolver asks them (made on first use). */
  get lookup(): RefLookup {
    this.refLookup ??= refLookup(this.refs);
    return this.refLookup;
  }
  private refLookup: RefLookup | undefined;

  suggestions(input: string): string[] {
    return closestRefs(input, this.lookup, 5);
  }

  /** The squad that owns an entity (its ownedBy target), and the collective above that squad. */
  ownerOf(ref: string): { owner?: string; collective?: string } {
    const e = this.byRef.get(ref);
    const owner = e?.relations.find((r) => r.type === 'ownedBy')?.targetRef;
    return { owner, collective: this.collectiveOf(owner) ?? undefined };
  }

  /** The collective above a group (itself when it is one), by the graph's rule (graph/src/card.ts). */
  collectiveOf(group: string | undefined): string | null {
    return nearestCollective(group, (ref) => {
      const e = this.byRef.get(ref);
      if (!e) return undefined;
      const type = (e.spec as { type?: unknown } | undefined)?.type;
      return {
        kind: e.kind.toLowerCase(),
        type: typeof type === 'string' ? type : undefined,
        parent: e.relations.find((r) => r.type === 'childOf')?.targetRef,
      };
    });
  }
}

/** What a served entity's `relations` are made from, and what they are once read (see RELATIONS). */
interface ServedState {
  view: CatalogView;
  /** The stored descriptor the served entity was copied from. */
  source: Entity;
  /** Its relations as stored (both directions, to entities that exist). */
  stored: EntityRelation[];
  /** Those and the ones to missing targets, sorted: made on first read. */
  relations?: EntityRelation[];
}
const servedState = new WeakMap<object, ServedState>();

/**
 * A served entity's `relations`: an enumerable property like the others (JSON.stringify, spread and
 * structuredClone see an array), read through one shared getter so every served entity keeps one shape.
 */
const RELATIONS: PropertyDescriptor = {
  enumerable: true,
  configurable: true,
  get(this: ServedEntity): EntityRelation[] {
    const state = servedState.get(this) as ServedState;
    if (state.relations === undefined) {
      const dangling = danglingRelations(this, state.view.refs);
      state.relations = dangling.length === 0 ? state.stored : sortRelations([...state.stored, ...dangling]);
    }
    return state.relations;
  },
};

const MEMO_ENTRIES = 32;
/** The bytes of whole answers a view keeps (see rememberBytes). */
const ANSWER_CACHE_BYTES = 16 << 20;

/**
 * `JSON.stringify(served)` from the descriptor's stored text: `{...descriptor, relations, status?}` writes the
 * descriptor's keys, then relations, then status, so the text is the descriptor's with those two appended.
 * Undefined when that does not hold (a descriptor with its own `relations` or `status` key keeps its place).
 */
function spliced(served: ServedEntity, descriptor: Entity | undefined): string | undefined {
  if (!descriptor || Object.hasOwn(descriptor, 'relations') || Object.hasOwn(descriptor, 'status')) return;
  let text = descriptorText.get(descriptor);
  if (text === undefined) {
    text = JSON.stringify(descriptor);
    descriptorText.set(descriptor, text);
  }
  if (text.length < 3 || text.charCodeAt(text.length - 1) !== 125 /* } */) return;
  const status = (served as { status?: unknown }).status;
  return `${text.slice(0, -1)},"relations":${JSON.stringify(served.relations)}${
    status === undefined ? '' : `,"status":${JSON.stringify(status)}`
  }}`;
}

export interface ListFilter {
  kind?: string;
  owner?: string;
  system?: string;
  tier?: string;
  lifecycle?: string;
  type?: string;
}

/** The CLI's and UI's simple filters (the Backstage API has its own, richer ones in filter.ts). */
export function listEntities(view: CatalogView, f: ListFilter): ServedEntity[] {
  const want = (v: string | undefined) => v?.toLowerCase();
  const kind = want(f.kind);
  const owner = f.owner ? filterRef(view, f.owner, 'group') : undefined;
  const system = f.system ? filterRef(view, f.system, 'system') : undefined;
  return view
    .all()
    .filter((e) => {
      if (kind && e.kind.toLowerCase() !== kind) return false;
      if (owner && !e.relations.some((r) => r.type === 'ownedBy' && r.targetRef === owner)) return false;
      if (system && !e.relations.some((r) => r.type === 'partOf' && r.targetRef === system)) return false;
      if (f.tier && e.metadata.annotations?.[ANNOTATION.tier] !== String(f.tier)) return false;
      const spec = (e.spec ?? {}) as Record<string, unknown>;
      if (f.lifecycle && String(spec.lifecycle ?? '').toLowerCase() !== want(f.lifecycle)) return false;
      if (f.type && String(spec.type ?? '').toLowerCase() !== want(f.type)) return false;
      return true;
    })
    .sort((a, b) =>
      a.kind === b.kind ? a.metadata.name.localeCompare(b.metadata.name) : a.kind.localeCompare(b.kind),
    );
}

/**
 * A filter's owner or system as a ref: resolved by the catalogue's rules, a name without a kind taken as
 * `kind`. A name that is not in the catalogue filters everything out, as Backstage's filters do.
 */
function filterRef(view: CatalogView, input: string, kind: string): string {
  try {
    return resolveRef(input, view.lookup, {
      accept: (ref) => /^[^/]*:/.test(input.trim()) || ref.startsWith(`${kind}:`),
    });
  } catch (err) {
    if (err instanceof RefError && err.problem === 'unknown') return toRef(input, { kind });
    throw err;
  }
}

/** Teams with the number of services (Components) each owns, largest first. */
export function owners(
  view: CatalogView,
): { group: string; title: string; collective?: string; services: number; entities: number }[] {
  const rows = new Map<string, { services: number; entities: number }>();
  for (const e of view.all()) {
    const owner = e.relations.find((r) => r.type === 'ownedBy')?.targetRef;
    if (!owner) continue;
    const row = rows.get(owner) ?? { services: 0, entities: 0 };
    row.entities++;
    if (e.kind.toLowerCase() === 'component') row.services++;
    rows.set(owner, row);
  }
  return [...rows]
    .map(([group, r]) => {
      const g = view.byRef.get(group);
      return {
        group,
        title:
          (g?.spec?.profile as { displayName?: string } | undefined)?.displayName ??
          g?.metadata.title ??
          group,
        collective: view.collectiveOf(group) ?? undefined,
        ...r,
      };
    })
    .sort((a, b) => b.services - a.services || a.group.localeCompare(b.group));
}
