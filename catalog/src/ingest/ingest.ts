import type { EntityRelation } from '@backstage/catalog-model';
import { type CatalogPolicies, policiesFromEnv } from '../model/policy.ts';
import { STORED_RELATIONS, sortRelations } from '../model/relations.ts';
import { warmValidators } from '../model/validate.ts';
import type { IngestStore } from '../store/memory.ts';
import {
  CatalogConflictError,
  type CatalogDelta,
  type SourceFileRow,
  type StoredEntity,
} from '../store/store.ts';
import {
  checkReferences,
  claimLocations,
  commit,
  diffRelations,
  discover,
  type KnownCatalogue,
  locationTargetsOf,
  readFiles,
  targetPath,
  WARNING_PREFIX,
} from './stages.ts';

export { displayPath, isOrphan, locationTargetsOf, WARNING_PREFIX } from './stages.ts';

export interface IngestError {
  file: string;
  line: number;
  column: number;
  entityRef?: string;
  message: string;
  /** A warning does not refuse the entity (a dangling reference under Backstage's rules, a policy at `warning`). */
  severity?: 'warning';
}

/** Whether a stored problem is a warning (it refused nothing). */
export function isWarningRow(row: { message: string }): boolean {
  return row.message.startsWith(WARNING_PREFIX);
}

/** The problems that refuse something (not the warnings). */
export function errorsOnly(errors: readonly IngestError[]): IngestError[] {
  return errors.filter((e) => e.severity !== 'warning');
}

export interface IngestResult {
  /** Entities in the catalogue after this ingest, per kind (lowercase). */
  counts: Record<string, number>;
  errors: IngestError[];
  files: { total: number; changed: number; skipped: number; removed: number };
  /** Refs written (new or changed) and removed by this ingest: what the graph must update. */
  upserted: string[];
  removed: string[];
  /** Refs whose relations changed (also when only the other side of a relation changed). */
  relationsChanged: string[];
  /** Refs defined by the files this ingest read (or found unchanged), as they are in the catalogue now. */
  readRefs: string[];
  /** Refs marked orphan by this ingest: their location no longer lists them (Backstage keeps them, marked). */
  orphaned: string[];
  /** Refs served from their last good version because their file is bad. */
  stale: string[];
  /**
   * True when another writer had changed the store since this ingester last read it, so it read it again:
   * `upserted`/`removed` then say only what this ingest changed, not what the other writer did.
   */
  reloaded: boolean;
  durationMs: number;
}

/** What a refresh took in from other writers. */
export interface RefreshResult {
  /** Everything was read again (the change log could not say what changed): the changes are not listed. */
  full: boolean;
  upserted: string[];
  removed: string[];
  /** Refs whose relations changed, on either side. */
  relationsChanged: string[];
}

export interface IngestOptions {
  /** Called as files are read: for progress bars. */
  onProgress?: (done: number, total: number) => void;
  /**
   * Re-read files even when their hash is unchanged: every file (`true`), or only these (what a refresh names:
   * the files they list are read again only if they changed, as Backstage re-processes a Location's unchanged
   * children only on their own schedule).
   */
  force?: boolean | readonly string[];
  /**
   * The files that changed (added, edited or deleted), when the caller knows (a file watcher): then the tree
   * is not walked and only these files are read; every other file the store knows under the roots is taken
   * as it was.
   */
  changed?: string[];
  /**
   * Folders whose catalog-info.yaml files are the catalogue (the portal's own tree): a file the walk of one
   * would find that is gone, or an entity such a file no longer defines, leaves the catalogue. Every directory
   * given as a root is one too. Anything else (files reached through a Location, registered locations) follows
   * Backstage: what its location stops listing is kept, marked `backstage.io/orphan: "true"`.
   */
  treeRoots?: string[];
  /** Where Location targets read from a root must stay (default: the root, or a file root's folder). */
  confineOf?: (root: string) => string | undefined;
  /** URL Location targets (`spec.type: url`, or any target of a Location read from a URL): see UrlTargets. */
  urls?: UrlTargets;
  /** Files whose entities leave the catalogue (what a removed registered location contributed). */
  forget?: string[];
  /** Orphaned entities to remove (Backstage lets a client delete an orphan). */
  dropOrphans?: string[];
  /**
   * This ingest reads the whole catalogue: its problems replace every stored one. Otherwise only the stored
   * problems of the files it read (or saw gone) are replaced.
   */
  wholeCatalogue?: boolean;
}

/**
 * How the ingester reaches URLs: through the caller's local copies (the service's mirror, read through its
 * allow-listed UrlReader), so everything below works on files.
 */
export interface UrlTargets {
  /** The local copy a URL is read from. */
  fileOf(url: string): string;
  /** What `backstage.io/managed-by-location` names a file by: `url:<url>` for a copy of a URL, else `file:<path>`. */
  locationOf(file: string): string;
  /** Read the URL (and what it names) into its local copy and return that file; throws saying why not. */
  read(url: string): Promise<string>;
}

/**
 * Reads descriptor trees into the store. Incremental: files whose content hash did not change are not
 * re-parsed; only changed entities and relations are written, in one transaction. A bad file never
 * removes the last good version of its entities: they are kept, marked stale, until it is fixed or deleted.
 */
export class Ingester {
  private state: KnownCatalogue | undefined;
  private running: Promise<unknown> = Promise.resolve();

  private readonly policies: CatalogPolicies;

  constructor(
    private store: IngestStore,
    /** Which rules hold where (policy.ts); default from the environment: the bank's own for services/. */
    opts: { policies?: CatalogPolicies } = {},
  ) {
    this.policies = opts.policies ?? policiesFromEnv();
    void warmValidators();
  }

  /** Entities and relations as of the last ingest (loads the store on first use). */
  async snapshot(): Promise<{
    entities: Map<string, StoredEntity>;
    relations: Map<string, EntityRelation[]>;
    /** The store's generation these are of. */
    generation: number;
  }> {
    const s = await this.loadState();
    return { entities: s.entities, relations: s.relations, generation: s.generation };
  }

  /** Ingest these roots (directories or files). Runs are serialised. */
  ingest(roots: string[], opts: IngestOptions = {}): Promise<IngestResult> {
    return this.serialised(() => this.run(roots, opts));
  }

  /**
   * Take in what another writer (another portal, `portal ingest` in a terminal) changed in the store since
   * this ingester read it: only the rows it changed, from the store's change log, or everything when the log
   * cannot say. Undefined when nothing changed; else what did (`full`: everything was read again).
   * snapshot() then gives the store's catalogue.
   */
  refresh(): Promise<RefreshResult | undefined> {
    return this.serialised(async () => {
      const state = this.state;
      if (!state || (await this.store.generation()) === state.generation) return undefined;
      const delta = await this.store.changesSince?.(state.generation);
      if (!delta) {
        this.state = undefined;
        await this.loadState();
        return { full: true, upserted: [], removed: [], relationsChanged: [] };
      }
      return applyDelta(state, delta);
    });
  }

  /**
   * What an ingest would do, written nowhere: a second ingester over a copy of this one's state reads the
   * roots; its result and snapshot say what the catalogue would become (Backstage's `dryRun`).
   */
  dryRun(
    roots: string[],
    opts: IngestOptions = {},
  ): Promise<{ result: IngestResult; entities: Map<string, StoredEntity> }> {
    return this.serialised(async () => {
      const state = await this.loadState();
      let generation = state.generation;
      const copy = new Ingester(
        {
          load: async () => ({
            entities: [...state.entities.values()],
            relations: new Map(state.relations),
            files: [...state.files.values()],
            errors: [],
            generation,
          }),
          write: async () => ++generation,
          generation: async () => generation,
        },
        { policies: this.policies },
      );
      const result = await copy.ingest(roots, opts);
      return { result, entities: (await copy.snapshot()).entities };
    });
  }

  /** The file each known entity came from, and the files the store knows: for location bookkeeping. */
  async files(): Promise<Map<string, SourceFileRow>> {
    return (await this.loadState()).files;
  }

  private serialised<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.running.then(fn);
    this.running = run.catch(() => undefined);
    return run;
  }

  private async loadState(): Promise<KnownCatalogue> {
    if (!this.state) {
      const snap = await this.store.load();
      this.state = {
        entities: new Map(snap.entities.map((e) => [e.ref, e])),
        relations: snap.relations,
        files: new Map(snap.files.map((f) => [f.path, f])),
        generation: snap.generation,
      };
    }
    return this.state;
  }

  /**
   * One ingest. Another writer may have moved the store on since this ingester read it: then it first takes
   * in what that writer changed (from the change log, else by reading everything), and if a write still races
   * it (the store refuses a write based on an old read), it catches up again and redoes the ingest, so nobody's
   * changes are lost or overwritten with old ones. The result lists the other writers' changes too.
   */
  private async run(rootsIn: string[], opts: IngestOptions): Promise<IngestResult> {
    let reloaded = false;
    const followed = {
      upserted: new Set<string>(),
      removed: new Set<string>(),
      relations: new Set<string>(),
    };
    const catchUp = async () => {
      const state = this.state;
      if (!state || (await this.store.generation()) === state.generation) return;
      const delta = await this.store.changesSince?.(state.generation);
      if (!delta) {
        this.state = undefined;
        reloaded = true;
        return;
      }
      const r = applyDelta(state, delta);
      for (const ref of r.upserted) followed.upserted.add(ref);
      for (const ref of r.removed) followed.removed.add(ref);
      for (const ref of r.relationsChanged) followed.relations.add(ref);
    };
    for (let attempt = 1; ; attempt++) {
      await catchUp();
      try {
        const own = await this.runOnce(rootsIn, opts);
        const entities = (await this.loadState()).entities;
        const upserted = new Set([...followed.upserted, ...own.upserted]);
        const removed = new Set([...followed.removed, ...own.removed]);
        return {
          ...own,
          upserted: [...upserted].filter((ref) => entities.has(ref)),
          removed: [...removed].filter((ref) => !entities.has(ref)),
          relationsChanged: [...new Set([...followed.relations, ...own.relationsChanged])].filter((ref) =>
            entities.has(ref),
          ),
          reloaded,
        };
      } catch (err) {
        if (!(err instanceof CatalogConflictError) || attempt >= 5) throw err;
      }
    }
  }

  /** One ingest, stage by stage (stages.ts): nothing is written, nor known, before `commit`. */
  private async runOnce(rootsIn: string[], opts: IngestOptions): Promise<Omit<IngestResult, 'reloaded'>> {
    const known = await this.loadState();
    const run = await discover(known, rootsIn, opts, this.policies);
    await readFiles(run);
    const files = { total: run.queue.length, changed: run.changed, skipped: run.skipped, removed: 0 };
    const readRefs = () => run.fileRows.flatMap((f) => f.entityRefs);
    if (!claimLocations(run)) {
      const nothing = { upsert: [], removed: [], relationsChanged: [], orphaned: [] };
      return this.result(known, {
        ...nothing,
        errors: run.errors,
        files,
        readRefs: readRefs(),
        started: run.started,
      });
    }
    checkReferences(run);
    const change = diffRelations(run);
    await commit(run, this.store, change);
    return this.result(known, {
      errors: run.errors,
      files: { ...files, removed: run.removedFiles.length },
      upsert: change.upsert,
      removed: change.removed,
      relationsChanged: [...change.relationChanges.keys()].filter((r) => known.entities.has(r)),
      readRefs: readRefs(),
      orphaned: run.orphanedNow.filter((r) => known.entities.has(r)),
      started: run.started,
    });
  }

  private result(
    state: KnownCatalogue,
    r: {
      errors: IngestError[];
      files: IngestResult['files'];
      upsert: StoredEntity[];
      removed: string[];
      relationsChanged: string[];
      readRefs: string[];
      orphaned: string[];
      started: number;
    },
  ): Omit<IngestResult, 'reloaded'> {
    const counts: Record<string, number> = {};
    const stale: string[] = [];
    for (const e of state.entities.values()) {
      const k = e.entity.kind.toLowerCase();
      counts[k] = (counts[k] ?? 0) + 1;
      if (e.stale) stale.push(e.ref);
    }
    return {
      counts,
      errors: r.errors,
      files: r.files,
      upserted: r.upsert.map((e) => e.ref),
      removed: r.removed,
      relationsChanged: r.relationsChanged,
      readRefs: r.readRefs.filter((ref) => state.entities.has(ref)),
      orphaned: r.orphaned,
      stale,
      durationMs: Math.round(performance.now() - r.started),
    };
  }
}

/**
 * Apply another writer's changes to the ingester's state. Relation lists are replaced, never edited in place:
 * the current view shares them until the next one is built.
 */
function applyDelta(state: KnownCatalogue, delta: CatalogDelta): RefreshResult {
  const upserted: string[] = [];
  const removed: string[] = [];
  for (const [ref, row] of delta.entities) {
    if (row) {
      state.entities.set(ref, row);
      upserted.push(ref);
    } else if (state.entities.delete(ref)) removed.push(ref);
  }
  const copied = new Set<string>();
  const own = (ref: string): EntityRelation[] => {
    if (!copied.has(ref)) {
      state.relations.set(ref, [...(state.relations.get(ref) ?? [])]);
      copied.add(ref);
    }
    return state.relations.get(ref) as EntityRelation[];
  };
  // The store keeps one side of each pair (STORED_RELATIONS) per source: swap a source's stored side, and the
  // other side on each target, old for new.
  for (const [source, rows] of delta.relations) {
    const before = state.relations.get(source) ?? [];
    for (const r of before) {
      const inverse = STORED_RELATIONS.get(r.type);
      if (!inverse) continue;
      const other = own(r.targetRef);
      const i = other.findIndex((x) => x.type === inverse && x.targetRef === source);
      if (i >= 0) other.splice(i, 1);
    }
    const list = own(source);
    const kept = list.filter((r) => !STORED_RELATIONS.has(r.type));
    list.length = 0;
    list.push(...kept);
    for (const r of rows) {
      list.push({ type: r.type, targetRef: r.targetRef });
      const inverse = STORED_RELATIONS.get(r.type);
      if (inverse) own(r.targetRef).push({ type: inverse, targetRef: source });
    }
  }
  for (const ref of copied) {
    const list = state.relations.get(ref) as EntityRelation[];
    if (list.length === 0) state.relations.delete(ref);
    else sortRelations(list);
  }
  for (const [p, row] of delta.files) {
    if (row) state.files.set(p, row);
    else state.files.delete(p);
  }
  state.generation = delta.generation;
  return {
    full: false,
    upserted,
    removed,
    relationsChanged: [...copied].filter((ref) => state.entities.has(ref)),
  };
}

/**
 * The known files reached from `starts` (files), following the Location entities each file defines, as the
 * store last read them: what a root or a registered location contributes to the catalogue.
 */
export function filesReachedFrom(
  starts: readonly string[],
  files: ReadonlyMap<string, SourceFileRow>,
  entities: ReadonlyMap<string, StoredEntity>,
  urls?: UrlTargets,
): Set<string> {
  const reached = new Set<string>();
  const queue = [...starts];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (reached.has(file)) continue;
    reached.add(file);
    for (const ref of files.get(file)?.entityRefs ?? []) {
      const e = entities.get(ref)?.entity;
      if (e?.kind.toLowerCase() !== 'location') continue;
      for (const { target } of locationTargetsOf(e)) queue.push(targetPath(file, target, urls));
    }
  }
  return reached;
}

/** The known file whose Location lists `file`, if any. */
export function listingFileOf(
  file: string,
  files: ReadonlyMap<string, SourceFileRow>,
  entities: ReadonlyMap<string, StoredEntity>,
  urls?: UrlTargets,
): string | undefined {
  for (const [p, row] of files) {
    for (const ref of row.entityRefs) {
      const e = entities.get(ref)?.entity;
      if (e?.kind.toLowerCase() !== 'location') continue;
      if (locationTargetsOf(e).some(({ target }) => targetPath(p, target, urls) === file)) return p;
    }
  }
  return undefined;
}
