import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Entity, EntityRelation } from '@backstage/catalog-model';
import { type CatalogPolicies, policiesFromEnv, policyOf } from '../model/policy.ts';
import { closestRefs, parseRef, stringifyRef } from '../model/ref.ts';
import {
  changedRelations,
  checkReferences,
  computeRelations,
  danglingRelations,
  STORED_RELATIONS,
  sameRelations,
  sortRelations,
} from '../model/relations.ts';
import { warmValidators } from '../model/validate.ts';
import type { IngestStore } from '../store/memory.ts';
import {
  CatalogConflictError,
  type CatalogDelta,
  type IngestErrorRow,
  type SourceFileRow,
  type StoredEntity,
} from '../store/store.ts';
import { type Position, parseDescriptor } from './parse.ts';
import { prepareFile } from './prepare.ts';
import { findDescriptorFiles, hashBytes, isDescriptorPath, resolveLocationTarget } from './walk.ts';

export interface IngestError {
  file: string;
  line: number;
  column: number;
  entityRef?: string;
  message: string;
  /** A warning does not refuse the entity (a dangling reference under Backstage's rules, a policy at `warning`). */
  severity?: 'warning';
}

/** Stored problems have no severity column: a warning's message starts with this. */
export const WARNING_PREFIX = 'Warning: ';

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
  /** Re-read every file even when its hash is unchanged. */
  force?: boolean;
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

const isUrlTarget = (target: string) => /^https?:\/\//i.test(target);

/** Whether the catalogue marked this entity orphan (its location no longer lists it). */
export function isOrphan(entity: Entity): boolean {
  return entity.metadata.annotations?.['backstage.io/orphan'] === 'true';
}

/** What the ingester knows between runs (loaded from the store once). */
interface State {
  entities: Map<string, StoredEntity>;
  relations: Map<string, EntityRelation[]>;
  files: Map<string, SourceFileRow>;
  /** The store's generation this state is of. */
  generation: number;
}

interface Candidate {
  stored: StoredEntity;
  /** Where its definition is, for errors. */
  file: string;
  /** Where the definition starts, and where a field of it is (re-reads the file: only errors need it). */
  position?: Position;
  positionOf?: (path: (string | number)[]) => Position;
  fresh: boolean;
}

/** What a file's entities say brought it in (their `managed-by-origin-location`, as written), if the store knows it. */
function originOfKnown(state: State, file: string): string | undefined {
  const ref = state.files.get(file)?.entityRefs[0];
  return ref ? state.entities.get(ref)?.entity.metadata.annotations?.[ORIGIN] : undefined;
}
const ORIGIN = 'backstage.io/managed-by-origin-location';

/** The entity marked orphan, with a new etag (Backstage changes the etag with any change). */
function orphaned(stored: StoredEntity): StoredEntity {
  const annotations = { ...(stored.entity.metadata.annotations ?? {}), 'backstage.io/orphan': 'true' };
  const metadata = { ...stored.entity.metadata, annotations, etag: '' };
  const entity = { ...stored.entity, metadata } as Entity;
  entity.metadata.etag = createHash('sha1').update(JSON.stringify(entity)).digest('hex');
  return { ...stored, entity, stale: false, staleReason: null };
}

/**
 * Reads descriptor trees into the store. Incremental: files whose content hash did not change are not
 * re-parsed; only changed entities and relations are written, in one transaction. A bad file never
 * removes the last good version of its entities: they are kept, marked stale, until it is fixed or deleted.
 */
export class Ingester {
  private state: State | undefined;
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

  private async loadState(): Promise<State> {
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

  private async runOnce(rootsIn: string[], opts: IngestOptions): Promise<Omit<IngestResult, 'reloaded'>> {
    const started = performance.now();
    const state = await this.loadState();
    const roots = await Promise.all(rootsIn.map(async (r) => realpath(path.resolve(r))));
    const errors: IngestError[] = [];
    const display = displayPath;

    // 1. Discover: tree walk, then Location targets (which may point at files the walk did not find).
    // `confine`: what Location targets must stay inside. A root that is a file (a locations.yaml registered
    // as Backstage registers one) confines its targets to the file's folder.
    // With `changed` (the watcher knows what changed), the tree is not walked: the files the store knows
    // under the roots, plus the changed ones, and only the changed ones are read.
    const changedSet = opts.changed ? new Set(opts.changed.map(realPathOf)) : undefined;
    // `origin`: the `managed-by-origin-location` its entities get (`file:<root>` or `url:<registered url>`).
    const queue: { abs: string; root: string; confine: string; via: string[]; origin: string }[] = [];
    const locationOf = (file: string) => opts.urls?.locationOf(file) ?? `file:${file}`;
    const dirRoots: string[] = [];
    for (const root of roots) {
      const isFile = (await stat(root)).isFile();
      if (!isFile) dirRoots.push(root);
      const confine = opts.confineOf?.(root) ?? (isFile ? path.dirname(root) : root);
      const files = changedSet
        ? knownAndChanged(root, state.files, changedSet)
        : await findDescriptorFiles(root);
      for (const f of files)
        queue.push({ abs: f, root, confine, via: [], origin: originOfKnown(state, f) ?? locationOf(f) });
    }
    const treeRoots = [...dirRoots, ...(opts.treeRoots ?? []).map(realPathOf)];
    const under = (r: string, p: string) => p === r || p.startsWith(r + path.sep);
    /** A catalog-info.yaml of the portal's own tree: it is the catalogue, so what leaves it leaves. */
    const isTreeFile = (p: string) => treeRoots.some((r) => under(r, p) && isDescriptorPath(r, p));
    const forget = new Set((opts.forget ?? []).map(realPathOf));
    const seen = new Set(queue.map((q) => q.abs));
    const candidates = new Map<string, Candidate>();
    const fileRows: SourceFileRow[] = [];
    const touchedFiles = new Set<string>();
    const badEntityFiles = new Map<string, string>(); // ref → reason, for entities in files that turned bad
    let changed = 0;
    let skipped = 0;
    let done = 0;
    /** Files with warnings: read again next time (not skipped by hash) so the warnings stay reported. */
    const warnedFiles = new Set<string>();

    const claim = (c: Candidate, line: number, column: number): boolean => {
      const existing = candidates.get(c.stored.ref);
      if (existing && existing.file !== c.file) {
        // The file that already owned it in the store keeps it; otherwise the first in path order.
        const prior = state.entities.get(c.stored.ref)?.sourceFile;
        const keepNew = prior === c.file && existing.file !== prior;
        const loser = keepNew ? existing : c;
        const winner = keepNew ? c : existing;
        errors.push({
          file: display(loser.file),
          line: loser.position?.line ?? line,
          column: loser.position?.column ?? column,
          entityRef: c.stored.ref,
          message: `${c.stored.ref} is already defined in ${display(winner.file)}:${winner.stored.line ?? 1}; each entity must be defined once. Remove one of the two definitions`,
        });
        if (keepNew) candidates.set(c.stored.ref, c);
        return keepNew;
      }
      candidates.set(c.stored.ref, c);
      return true;
    };

    for (let i = 0; i < queue.length; i++) {
      const item = queue[i];
      const abs = item.abs;
      touchedFiles.add(abs);
      // The event loop gets a turn now and then, so a portal ingesting in the background keeps answering.
      if (i % 32 === 31) await new Promise((resolve) => setImmediate(resolve));
      const prior = state.files.get(abs);
      // Not read at all: a file the caller says did not change, whose last read was clean.
      const trusted = !!changedSet && !!prior?.ok && !changedSet.has(abs) && !opts.force;
      let bytes: Uint8Array = new Uint8Array(0);
      let hash = prior?.hash ?? '';
      if (!trusted) {
        try {
          // Descriptors are small and usually in the page cache: a synchronous read costs microseconds, an
          // asynchronous one four thread-pool round trips.
          bytes = readFileSync(abs);
        } catch (err) {
          errors.push({
            file: display(abs),
            line: 1,
            column: 1,
            message: `Cannot read file: ${(err as Error).message}`,
          });
          continue;
        }
        hash = hashBytes(bytes);
      }
      const refsInFile: string[] = [];
      const locationTargets: {
        target: string;
        type?: string;
        path: (string | number)[];
        positionOf?: (path: (string | number)[]) => Position;
      }[] = [];
      if (prior && (trusted || (prior.hash === hash && prior.ok && !opts.force))) {
        skipped++;
        for (const ref of prior.entityRefs) {
          const stored = state.entities.get(ref);
          if (!stored) continue;
          refsInFile.push(ref);
          claim({ stored, file: abs, fresh: false }, stored.line ?? 1, 1);
          if (stored.entity.kind.toLowerCase() === 'location') {
            locationTargets.push(...locationTargetsOf(stored.entity));
          }
        }
        fileRows.push({ ...prior });
      } else {
        changed++;
        const parsed = await prepareFile(
          abs,
          bytes,
          item.origin,
          policyOf(this.policies, abs),
          item.confine,
          locationOf(abs),
        );
        let ok = parsed.problems.length === 0;
        for (const p of parsed.problems)
          errors.push({ file: display(abs), line: p.line, column: p.column, message: p.message });
        for (const [docIndex, doc] of parsed.documents.entries()) {
          const ref = doc.ref;
          for (const p of doc.warnings) {
            errors.push({
              file: display(abs),
              line: p.line,
              column: p.column,
              entityRef: ref,
              message: p.message,
              severity: 'warning',
            });
            warnedFiles.add(abs);
          }
          if (!doc.entity || !ref) {
            ok = false;
            for (const p of doc.problems)
              errors.push({
                file: display(abs),
                line: p.line,
                column: p.column,
                entityRef: ref,
                message: p.message,
              });
            if (ref && doc.problems.length > 0) badEntityFiles.set(ref, doc.problems[0].message);
            continue;
          }
          const entity = doc.entity;
          entity.metadata.uid = state.entities.get(ref)?.entity.metadata.uid ?? randomUUID();
          const stored: StoredEntity = {
            ref,
            entity,
            sourceFile: abs,
            line: doc.position.line,
            stale: false,
            staleReason: null,
          };
          // Later checks may need a field's position; the file's text is not kept for that (it would hold
          // every descriptor in memory at once): it is read again if an error needs it.
          const positionOf = fieldLocator(abs, docIndex, doc.position);
          const candidate: Candidate = {
            stored,
            file: abs,
            fresh: true,
            position: doc.position,
            positionOf,
          };
          if (claim(candidate, doc.position.line, doc.position.column)) {
            refsInFile.push(stored.ref);
          } else {
            ok = false;
          }
          if (entity.kind.toLowerCase() === 'location') {
            locationTargets.push(...locationTargetsOf(entity).map((t) => ({ ...t, positionOf })));
          }
        }
        // Entities this file used to define and no longer defines validly: keep the last good version, stale.
        if (prior && !ok) {
          for (const ref of prior.entityRefs) {
            if (refsInFile.includes(ref) || candidates.has(ref)) continue;
            const last = state.entities.get(ref);
            // Kept when its own document is invalid, or when the file could not be read as a whole.
            const fileBroken = parsed.problems.length > 0;
            if (!last || (!badEntityFiles.has(ref) && !fileBroken)) continue;
            const reason = badEntityFiles.get(ref) ?? parsed.problems[0]?.message ?? 'its file has errors';
            candidates.set(ref, {
              stored: { ...last, stale: true, staleReason: reason },
              file: abs,
              fresh: true,
            });
            refsInFile.push(ref);
          }
        }
        fileRows.push({ path: abs, hash, entityRefs: refsInFile, ok });
      }
      for (const { target, type, path: fieldPath, positionOf } of locationTargets) {
        // As Backstage: a URL target is read as a URL when its Location says `type: url`, or says nothing and
        // was itself read from a URL.
        const asUrl =
          isUrlTarget(target) &&
          (type ?? (locationOf(abs).startsWith('url:') ? 'url' : 'file')).toLowerCase() === 'url';
        const resolved = asUrl
          ? await readUrlTarget(opts.urls, target)
          : await resolveLocationTarget(item.confine, abs, target);
        // Where the target is written: only asked when there is an error to place.
        const where = () => (positionOf ? positionOf(fieldPath) : { line: 1, column: 1 });
        if ('error' in resolved) {
          errors.push({ file: display(abs), ...where(), message: resolved.error });
          continue;
        }
        const chain = [...item.via, abs];
        if (chain.includes(resolved.abs)) {
          errors.push({
            file: display(abs),
            ...where(),
            message: `Location target "${target}" leads back to ${display(resolved.abs)}: the locations form a cycle (${[...chain, resolved.abs].map(display).join(' → ')}); it was read once`,
          });
          continue;
        }
        if (!seen.has(resolved.abs)) {
          seen.add(resolved.abs);
          queue.push({
            abs: resolved.abs,
            root: item.root,
            // A URL's copy keeps its targets and placeholders inside its own host's folder.
            confine: asUrl ? (opts.confineOf?.(resolved.abs) ?? path.dirname(resolved.abs)) : item.confine,
            via: chain,
            origin: item.origin,
          });
        }
      }
      opts.onProgress?.(++done, queue.length);
    }

    // Catalog-info files of the tree that are gone: their entities leave, as a deleted file's do. Only under
    // the directories this ingest walked: a run that read one file says nothing about any other.
    const treeRemoved = new Set<string>();
    for (const p of state.files.keys()) {
      if (touchedFiles.has(p) || forget.has(p)) continue;
      if (dirRoots.some((r) => under(r, p)) && isTreeFile(p)) treeRemoved.add(p);
    }

    // Files a Location read last time and no longer lists (nor does anything else this run), and the files
    // their Locations listed: Backstage keeps their entities, marked orphan, and so does the portal.
    const released = new Set<string>();
    const release = (file: string, entityRefs: readonly string[]) => {
      for (const ref of entityRefs) {
        const stored = state.entities.get(ref);
        if (stored?.entity.kind.toLowerCase() !== 'location') continue;
        // A Location kept at its last good version (its file turned bad) keeps what it listed.
        if (candidates.get(ref)?.stored.stale) continue;
        for (const { target } of locationTargetsOf(stored.entity)) {
          const real = targetPath(file, target, opts.urls);
          const row = state.files.get(real);
          if (!row || touchedFiles.has(real) || released.has(real) || forget.has(real)) continue;
          if (treeRemoved.has(real)) continue;
          released.add(real);
          release(real, row.entityRefs);
        }
      }
    };
    for (const file of [...touchedFiles, ...treeRemoved]) {
      const prior = state.files.get(file);
      if (prior) release(file, prior.entityRefs);
    }
    const dropOrphans = new Set(opts.dropOrphans ?? []);

    // Nothing read, nothing gone, no earlier problems to re-check: the catalogue is as it was.
    if (
      changed === 0 &&
      treeRemoved.size === 0 &&
      released.size === 0 &&
      forget.size === 0 &&
      dropOrphans.size === 0 &&
      errors.length === 0 &&
      state.entities.size > 0 &&
      !opts.force
    ) {
      return this.result(state, {
        errors,
        files: { total: queue.length, changed, skipped, removed: 0 },
        upsert: [],
        removed: [],
        relationsChanged: [],
        readRefs: fileRows.flatMap((f) => f.entityRefs),
        orphaned: [],
        started,
      });
    }

    // 2. Files that leave: deleted from the tree, no longer listed (their entities stay, orphaned), or
    // forgotten (a registered location removed).
    const removedFiles = [
      ...new Set([...treeRemoved, ...released, ...[...forget].filter((p) => state.files.has(p))]),
    ].filter((p) => !touchedFiles.has(p));

    // 3. Entities not read this run: those of unread files stay as they are; those their location no longer
    // lists stay marked orphan, unless the portal's own tree defined them (then they leave with it).
    const orphanedNow: string[] = [];
    for (const [ref, stored] of state.entities) {
      if (candidates.has(ref)) continue;
      const file = stored.sourceFile;
      if (file && forget.has(file)) continue;
      if (isOrphan(stored.entity)) {
        if (!dropOrphans.has(ref)) candidates.set(ref, { stored, file: file ?? '', fresh: false });
        continue;
      }
      if (!file) continue;
      const droppedByItsFile = touchedFiles.has(file) || treeRemoved.has(file);
      if (released.has(file) || (droppedByItsFile && !isTreeFile(file))) {
        candidates.set(ref, { stored: orphaned(stored), file, fresh: true });
        orphanedNow.push(ref);
      } else if (!droppedByItsFile && state.files.has(file)) {
        candidates.set(ref, { stored, file, fresh: false });
      }
    }

    // 4. References must resolve; an entity that fails keeps its last good version (stale) or is left out.
    // Closest names cost a scan of every ref: enough for people to act on, bounded when a whole tree is broken.
    let suggestionBudget = 200;
    const suggestIn = (known: Set<string>) => (raw: string, kind?: string) => {
      if (suggestionBudget-- <= 0) return [];
      try {
        const wanted = stringifyRef(parseRef(raw, { kind: kind ?? 'component' }));
        const sameKind = [...known].filter((k) => k.startsWith(`${wanted.slice(0, wanted.indexOf(':'))}:`));
        return closestRefs(raw, sameKind, 3);
      } catch {
        return [];
      }
    };
    // An entity that did not change checked out last time against the refs then stored. Its references still
    // resolve unless one named an entity that is gone, and then the two were related: so only what was read
    // anew, and the old partners of what is gone, need checking.
    const partnersOfGone = (known: Set<string>) => {
      const partners = new Set<string>();
      for (const ref of state.entities.keys()) {
        if (known.has(ref)) continue;
        for (const r of state.relations.get(ref) ?? []) partners.add(r.targetRef);
      }
      return partners;
    };
    const warned = new Set<string>();
    for (let pass = 0; pass < 10; pass++) {
      const known = new Set(candidates.keys());
      const suggest = suggestIn(known);
      const mayFail = partnersOfGone(known);
      let dropped = 0;
      for (const [ref, c] of candidates) {
        if (c.stored.stale) continue;
        if (!c.fresh && state.entities.get(ref) === c.stored && !mayFail.has(ref)) continue;
        const policy = policyOf(this.policies, c.file);
        const problems = checkReferences(c.stored.entity, known, suggest, {
          targetKinds: policy.name === 'bank',
        });
        if (problems.length === 0) continue;
        // Backstage keeps an entity whose references dangle, and its relations; so does a policy at `warning`.
        if (policy.name === 'backstage' || policy.level === 'warning') {
          if (warned.has(ref)) continue;
          warned.add(ref);
          for (const p of problems) {
            const pos = c.positionOf ? c.positionOf(p.path) : { line: c.stored.line ?? 1, column: 1 };
            errors.push({
              file: display(c.file),
              ...pos,
              entityRef: ref,
              message: p.message,
              severity: 'warning',
            });
          }
          warnedFiles.add(c.file);
          continue;
        }
        if (pass === 0 || c.fresh) {
          for (const p of problems) {
            const pos = c.positionOf ? c.positionOf(p.path) : { line: c.stored.line ?? 1, column: 1 };
            errors.push({ file: display(c.file), ...pos, entityRef: ref, message: p.message });
          }
        }
        const last = state.entities.get(ref);
        if (
          last &&
          !sameBody(last.entity, c.stored.entity) &&
          checkReferences(last.entity, known, suggest).length === 0
        ) {
          candidates.set(ref, {
            ...c,
            stored: { ...last, stale: true, staleReason: problems[0].message },
            fresh: true,
          });
        } else if (last?.stale) {
          candidates.set(ref, { ...c, stored: last });
        } else {
          candidates.delete(ref);
          dropped++;
        }
        const row = fileRows.find((f) => f.path === c.file);
        if (row) row.ok = false;
      }
      if (dropped === 0) break;
    }
    for (const [ref, c] of candidates)
      if (c.stored.stale) badEntityFiles.set(ref, c.stored.staleReason ?? '');

    // 5. Relations of the final set, and the difference from what is stored: recomputed around what changed
    // (changedRelations), or in full for a first ingest or when much changed.
    const known = new Set(candidates.keys());
    const relationChanges = new Map<string, EntityRelation[]>();
    const refsChanged =
      known.size !== state.entities.size || [...state.entities.keys()].some((ref) => !known.has(ref));
    const changes: { before?: Entity; after?: Entity }[] = [];
    // Entities whose references dangle (kept under Backstage's rules, or stale) relate to what a ref that comes
    // or goes names: when refs change, each such entity is recomputed (one pass over the references).
    const knownBefore = new Set(state.entities.keys());
    const dangles = (before: Entity, after: Entity) =>
      danglingRelations(after, known).length > 0 || danglingRelations(before, knownBefore).length > 0;
    for (const [ref, c] of candidates) {
      const before = state.entities.get(ref)?.entity;
      if (!before) changes.push({ after: c.stored.entity });
      else if (
        !sameBody(before, c.stored.entity) ||
        (refsChanged && (c.stored.stale || dangles(before, c.stored.entity)))
      )
        changes.push({ before, after: c.stored.entity });
    }
    for (const [ref, stored] of state.entities)
      if (!candidates.has(ref)) changes.push({ before: stored.entity });
    if (state.entities.size > 0 && changes.length <= known.size / 4) {
      const lists = changedRelations(
        state.relations,
        changes,
        (ref) => candidates.get(ref)?.stored.entity,
        known,
        new Set(state.entities.keys()),
      );
      for (const [source, list] of lists) relationChanges.set(source, list);
    } else {
      const relations = computeRelations(
        [...candidates.values()].map((c) => c.stored.entity),
        known,
      );
      for (const [source, list] of relations) {
        if (!sameRelations(state.relations.get(source), list)) relationChanges.set(source, list);
      }
      for (const source of state.relations.keys())
        if (!relations.has(source)) relationChanges.set(source, []);
    }
    const upsert: StoredEntity[] = [];
    for (const [ref, c] of candidates) {
      const before = state.entities.get(ref);
      if (
        !before ||
        before.stale !== c.stored.stale ||
        before.sourceFile !== c.stored.sourceFile ||
        before.line !== c.stored.line ||
        !sameBody(before.entity, c.stored.entity)
      ) {
        upsert.push(c.stored);
      }
    }
    const removed = [...state.entities.keys()].filter((ref) => !candidates.has(ref));

    for (const row of fileRows) if (warnedFiles.has(row.path)) row.ok = false;
    const errorRows: IngestErrorRow[] = errors.map((e) => ({
      file: e.file,
      line: e.line,
      column: e.column,
      entityRef: e.entityRef ?? null,
      message: e.severity === 'warning' ? `${WARNING_PREFIX}${e.message}` : e.message,
    }));
    // The stored problems of what this ingest read, or saw gone, are replaced; the others' stay.
    const errorsFor = opts.wholeCatalogue
      ? undefined
      : [...[...touchedFiles, ...removedFiles].map(display), ...errors.map((e) => e.file)];
    state.generation = await this.store.write(
      {
        upsert,
        remove: removed,
        relations: relationChanges,
        files: fileRows.filter((f) => !sameFile(state.files.get(f.path), f)),
        removeFiles: removedFiles,
        errors: errorRows,
        errorsFor,
      },
      state.generation,
    );

    // 6. The new state, only after the write committed.
    for (const ref of removed) state.entities.delete(ref);
    for (const e of upsert) state.entities.set(e.ref, e);
    for (const [source, list] of relationChanges) {
      if (list.length === 0) state.relations.delete(source);
      else state.relations.set(source, list);
    }
    for (const p of removedFiles) state.files.delete(p);
    for (const f of fileRows) state.files.set(f.path, f);

    return this.result(state, {
      errors,
      files: { total: queue.length, changed, skipped, removed: removedFiles.length },
      upsert,
      removed,
      relationsChanged: [...relationChanges.keys()].filter((r) => state.entities.has(r)),
      readRefs: fileRows.flatMap((f) => f.entityRefs),
      orphaned: orphanedNow.filter((r) => state.entities.has(r)),
      started,
    });
  }

  private result(
    state: State,
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

/** The real path of a file, or of its folder when the file is gone (as the store names files). */
function realPathOf(p: string): string {
  const abs = path.resolve(p);
  try {
    return realpathSync(abs);
  } catch {
    try {
      return path.join(realpathSync(path.dirname(abs)), path.basename(abs));
    } catch {
      return abs;
    }
  }
}

/** Files under `root` the store knows and that still exist, and changed files a tree walk would find, sorted. */
function knownAndChanged(root: string, known: Map<string, SourceFileRow>, changed: Set<string>): string[] {
  const under = (p: string) => p === root || p.startsWith(root + path.sep);
  const out = new Set<string>();
  for (const p of known.keys()) if (under(p) && (!changed.has(p) || existsSync(p))) out.add(p);
  for (const p of changed)
    if (!out.has(p) && under(p) && isDescriptorPath(root, p) && existsSync(p)) out.add(p);
  return [...out].sort();
}

/** Paths in messages: relative to the working directory when inside it, else absolute. */
export function displayPath(abs: string): string {
  const rel = path.relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : abs;
}

/** A field's position in the `docIndex`-th document of a file, found by parsing the file again. */
function fieldLocator(
  file: string,
  docIndex: number,
  fallback: Position,
): (path: (string | number)[]) => Position {
  // The file is parsed again on the first question only: a Location with thousands of bad targets asks
  // thousands of times.
  let doc: ReturnType<typeof parseDescriptor>['documents'][number] | null | undefined;
  return (fieldPath) => {
    if (doc === undefined) {
      try {
        doc = parseDescriptor(readFileSync(file)).documents[docIndex] ?? null;
      } catch {
        doc = null;
      }
    }
    try {
      return doc ? doc.positionOf(fieldPath) : fallback;
    } catch {
      return fallback;
    }
  };
}

/** A Location's targets, with its `spec.type` when it gives one. */
export function locationTargetsOf(
  entity: Entity,
): { target: string; type?: string; path: (string | number)[] }[] {
  const spec = (entity.spec ?? {}) as { type?: unknown; target?: unknown; targets?: unknown };
  const type = typeof spec.type === 'string' ? { type: spec.type } : {};
  const list: { target: string; type?: string; path: (string | number)[] }[] = [];
  if (typeof spec.target === 'string') list.push({ target: spec.target, ...type, path: ['spec', 'target'] });
  if (Array.isArray(spec.targets)) {
    spec.targets.forEach((t, i) => {
      if (typeof t === 'string') list.push({ target: t, ...type, path: ['spec', 'targets', i] });
    });
  }
  return list;
}

/** A URL Location target read through the caller's reader into its local copy. */
async function readUrlTarget(
  urls: UrlTargets | undefined,
  target: string,
): Promise<{ abs: string } | { error: string }> {
  if (!urls) return { error: `Location target "${target}" is a URL, and this catalogue reads no URLs` };
  try {
    return { abs: realPathOf(await urls.read(target)) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

function sameBody(a: Entity, b: Entity): boolean {
  return a.metadata.etag === b.metadata.etag && a.metadata.uid === b.metadata.uid;
}

function sameFile(a: SourceFileRow | undefined, b: SourceFileRow): boolean {
  return !!a && a.hash === b.hash && a.ok === b.ok && a.entityRefs.join('\n') === b.entityRefs.join('\n');
}

/**
 * Apply another writer's changes to the ingester's state. Relation lists are replaced, never edited in place:
 * the current view shares them until the next one is built.
 */
function applyDelta(state: State, delta: CatalogDelta): RefreshResult {
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
 * Where a Location target written in `file` points, as the store names files (real path when it exists; a URL's
 * local copy when `urls` is given).
 */
function targetPath(file: string, target: string, urls?: UrlTargets): string {
  let abs: string;
  try {
    abs =
      urls && isUrlTarget(target)
        ? urls.fileOf(target)
        : path.resolve(path.dirname(file), target.replace(/^file:/, ''));
  } catch {
    return target;
  }
  try {
    return realpathSync(abs);
  } catch {
    return abs;
  }
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
