/**
 * One ingest as named stages over an explicit run state (`IngestRun`), as Backstage's processing steps read:
 *
 *   discover → read → prepare → claim locations → check references → diff relations → commit
 *
 * `discover` finds the files under the roots; `read` takes a file's bytes (or trusts its last read);
 * `prepare` parses and validates it into candidate entities (claiming each ref for one file) and `follow`
 * queues the files its Locations list, so reading continues until nothing new is found (`readFiles` runs
 * these three per file). `claimLocations` says which files leave and which entities stay orphaned;
 * `checkReferences` drops (or keeps at their last good version) entities whose references do not resolve;
 * `diffRelations` computes what to write; `commit` writes it in one transaction and only then updates what
 * the ingester knows. Every stage but `commit` reads the ingester's known catalogue and writes only the run.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Entity, EntityRelation } from '@backstage/catalog-model';
import { type CatalogPolicies, policyOf } from '../model/policy.ts';
import { closestOfKind } from '../model/ref.ts';
import {
  changedRelations,
  checkReferences as checkEntityReferences,
  computeRelations,
  danglingRelations,
  sameRelations,
} from '../model/relations.ts';
import type { IngestStore } from '../store/memory.ts';
import type { IngestErrorRow, SourceFileRow, StoredEntity } from '../store/store.ts';
import type { IngestError, IngestOptions, UrlTargets } from './ingest.ts';
import { type Position, parseDescriptor } from './parse.ts';
import { prepareFile } from './prepare.ts';
import {
  findDescriptorFiles,
  hashBytes,
  isDescriptorPath,
  type RealPaths,
  resolveLocationTarget,
} from './walk.ts';

/** Stored problems have no severity column: a warning's message starts with this. */
export const WARNING_PREFIX = 'Warning: ';

/** What the ingester knows between runs (loaded from the store once). */
export interface KnownCatalogue {
  entities: Map<string, StoredEntity>;
  relations: Map<string, EntityRelation[]>;
  files: Map<string, SourceFileRow>;
  /** The store's generation this state is of. */
  generation: number;
}

/** An entity this run would have in the catalogue. */
export interface Candidate {
  stored: StoredEntity;
  /** Where its definition is, for errors. */
  file: string;
  /** Where the definition starts, and where a field of it is (re-reads the file: only errors need it). */
  position?: Position;
  positionOf?: (path: (string | number)[]) => Position;
  fresh: boolean;
}

/** A file to read, and how it was reached. */
export interface QueuedFile {
  abs: string;
  root: string;
  /** What Location targets read from it must stay inside. */
  confine: string;
  /** The Location files that led here, for cycles. */
  via: string[];
  /** The `managed-by-origin-location` its entities get (`file:<root>` or `url:<registered url>`). */
  origin: string;
}

/** A Location target, and where it is written (asked only when there is an error to place). */
export interface LocationTarget {
  target: string;
  /** The Location's `spec.type`, when it gives one. */
  type?: string;
  path: (string | number)[];
  positionOf?: (path: (string | number)[]) => Position;
}

/** Everything one ingest decides, stage by stage, before it writes. */
export interface IngestRun {
  /** The ingester's catalogue as of its last commit: read by the stages, changed by `commit` only. */
  readonly known: KnownCatalogue;
  readonly opts: IngestOptions;
  readonly policies: CatalogPolicies;
  readonly started: number;
  // discover
  /** The roots that are directories: a catalog-info.yaml gone from under one leaves the catalogue. */
  dirRoots: string[];
  /** The directories whose catalog-info.yaml files are the catalogue (dirRoots and opts.treeRoots). */
  treeRoots: string[];
  /** The files the caller says changed (a watcher): only these are read. */
  changedSet?: Set<string>;
  forget: Set<string>;
  dropOrphans: Set<string>;
  /** The files to read, in order; Location targets join the end as they are read. */
  queue: QueuedFile[];
  seen: Set<string>;
  // read, prepare
  candidates: Map<string, Candidate>;
  fileRows: SourceFileRow[];
  touchedFiles: Set<string>;
  /** ref → reason, for entities in files that turned bad. */
  badEntityFiles: Map<string, string>;
  /** Files with warnings: read again next time (not skipped by hash) so the warnings stay reported. */
  warnedFiles: Set<string>;
  errors: IngestError[];
  changed: number;
  skipped: number;
  // claim locations
  /** Catalog-info files of the tree that are gone. */
  treeRemoved: Set<string>;
  /** Files no Location lists any more. */
  released: Set<string>;
  removedFiles: string[];
  orphanedNow: string[];
  /** Real paths resolved during this run (Location targets are resolved by follow and again by claim). */
  realPaths: RealPaths;
}

/** What a run writes. */
export interface CatalogChange {
  upsert: StoredEntity[];
  removed: string[];
  relationChanges: Map<string, EntityRelation[]>;
}

const isUrlTarget = (target: string) => /^https?:\/\//i.test(target);

const ORIGIN = 'backstage.io/managed-by-origin-location';

/**
 * discover: the files under the roots. A tree walk; with `changed` (the watcher knows what changed) the tree
 * is not walked: the files the store knows under the roots, plus the changed ones. A root that is a file (a
 * locations.yaml registered as Backstage registers one) confines its Location targets to the file's folder.
 */
export async function discover(
  known: KnownCatalogue,
  rootsIn: string[],
  opts: IngestOptions,
  policies: CatalogPolicies,
): Promise<IngestRun> {
  const started = performance.now();
  const roots = await Promise.all(rootsIn.map(async (r) => realpath(path.resolve(r))));
  const changedSet = opts.changed ? new Set(opts.changed.map(realPathOf)) : undefined;
  const queue: QueuedFile[] = [];
  const dirRoots: string[] = [];
  for (const root of roots) {
    const isFile = (await stat(root)).isFile();
    if (!isFile) dirRoots.push(root);
    const confine = opts.confineOf?.(root) ?? (isFile ? path.dirname(root) : root);
    const files = changedSet
      ? knownAndChanged(root, known.files, changedSet)
      : await findDescriptorFiles(root);
    for (const f of files)
      queue.push({ abs: f, root, confine, via: [], origin: originOfKnown(known, f) ?? locationOf(opts, f) });
  }
  return {
    known,
    opts,
    policies,
    started,
    dirRoots,
    treeRoots: [...dirRoots, ...(opts.treeRoots ?? []).map(realPathOf)],
    changedSet,
    forget: new Set((opts.forget ?? []).map(realPathOf)),
    dropOrphans: new Set(opts.dropOrphans ?? []),
    queue,
    seen: new Set(queue.map((q) => q.abs)),
    candidates: new Map(),
    fileRows: [],
    touchedFiles: new Set(),
    badEntityFiles: new Map(),
    warnedFiles: new Set(),
    errors: [],
    changed: 0,
    skipped: 0,
    treeRemoved: new Set(),
    released: new Set(),
    removedFiles: [],
    orphanedNow: [],
    realPaths: new Map(),
  };
}

/** read → prepare → follow for each queued file, until no Location lists a file not yet read. */
export async function readFiles(run: IngestRun): Promise<void> {
  let done = 0;
  for (let i = 0; i < run.queue.length; i++) {
    const item = run.queue[i];
    run.touchedFiles.add(item.abs);
    // The event loop gets a turn now and then, so a portal ingesting in the background keeps answering.
    if (i % 32 === 31) await new Promise((resolve) => setImmediate(resolve));
    const file = read(run, item.abs);
    if (!file) continue;
    const targets = await prepare(run, item, file);
    await follow(run, item, targets);
    run.opts.onProgress?.(++done, run.queue.length);
  }
}

/** A file as read: its bytes, or none when its last clean read is trusted (`unchanged`). */
export interface FileRead {
  bytes: Uint8Array;
  hash: string;
  /** Its entities are taken as the store has them (not parsed again). */
  unchanged: boolean;
}

/**
 * read: a file's bytes and hash. Not read at all when the caller says it did not change and its last read
 * was clean; unchanged too when its hash is the last clean read's. Undefined (with an error) when unreadable.
 */
export function read(run: IngestRun, abs: string): FileRead | undefined {
  const prior = run.known.files.get(abs);
  const force = run.opts.force === true || (Array.isArray(run.opts.force) && run.opts.force.includes(abs));
  const trusted = !!run.changedSet && !!prior?.ok && !run.changedSet.has(abs) && !force;
  if (trusted) return { bytes: new Uint8Array(0), hash: prior.hash, unchanged: true };
  let bytes: Uint8Array;
  try {
    // Descriptors are small and usually in the page cache: a synchronous read costs microseconds, an
    // asynchronous one four thread-pool round trips.
    bytes = readFileSync(abs);
  } catch (err) {
    run.errors.push({
      file: displayPath(abs),
      line: 1,
      column: 1,
      message: `Cannot read file: ${(err as Error).message}`,
    });
    return undefined;
  }
  const hash = hashBytes(bytes);
  return { bytes, hash, unchanged: !!prior && prior.hash === hash && prior.ok && !force };
}

/**
 * prepare: the file's entities as candidates (each ref claimed for one file), and its Location targets. An
 * unchanged file's entities are the stored ones; a changed file is parsed and validated, and the entities it
 * used to define and no longer defines validly are kept at their last good version, marked stale.
 */
export async function prepare(run: IngestRun, item: QueuedFile, file: FileRead): Promise<LocationTarget[]> {
  const abs = item.abs;
  const prior = run.known.files.get(abs);
  if (prior && file.unchanged) {
    run.skipped++;
    const targets: LocationTarget[] = [];
    for (const ref of prior.entityRefs) {
      const stored = run.known.entities.get(ref);
      if (!stored) continue;
      claim(run, { stored, file: abs, fresh: false }, stored.line ?? 1, 1);
      if (stored.entity.kind.toLowerCase() === 'location') targets.push(...locationTargetsOf(stored.entity));
    }
    run.fileRows.push({ ...prior });
    return targets;
  }
  run.changed++;
  const display = displayPath(abs);
  const parsed = await prepareFile(
    abs,
    file.bytes,
    item.origin,
    policyOf(run.policies, abs),
    item.confine,
    locationOf(run.opts, abs),
  );
  let ok = parsed.problems.length === 0;
  for (const p of parsed.problems)
    run.errors.push({ file: display, line: p.line, column: p.column, message: p.message });
  const refsInFile: string[] = [];
  const targets: LocationTarget[] = [];
  for (const [docIndex, doc] of parsed.documents.entries()) {
    const ref = doc.ref;
    for (const p of doc.warnings) {
      run.errors.push({
        file: display,
        line: p.line,
        column: p.column,
        entityRef: ref,
        message: p.message,
        severity: 'warning',
      });
      run.warnedFiles.add(abs);
    }
    if (!doc.entity || !ref) {
      ok = false;
      for (const p of doc.problems)
        run.errors.push({
          file: display,
          line: p.line,
          column: p.column,
          entityRef: ref,
          message: p.message,
        });
      if (ref && doc.problems.length > 0) run.badEntityFiles.set(ref, doc.problems[0].message);
      continue;
    }
    const entity = doc.entity;
    entity.metadata.uid = run.known.entities.get(ref)?.entity.metadata.uid ?? randomUUID();
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
    const candidate: Candidate = { stored, file: abs, fresh: true, position: doc.position, positionOf };
    if (claim(run, candidate, doc.position.line, doc.position.column)) refsInFile.push(stored.ref);
    else ok = false;
    if (entity.kind.toLowerCase() === 'location')
      targets.push(...locationTargetsOf(entity).map((t) => ({ ...t, positionOf })));
  }
  // Entities this file used to define and no longer defines validly: keep the last good version, stale.
  if (prior && !ok) {
    for (const ref of prior.entityRefs) {
      if (refsInFile.includes(ref) || run.candidates.has(ref)) continue;
      const last = run.known.entities.get(ref);
      // Kept when its own document is invalid, or when the file could not be read as a whole.
      const fileBroken = parsed.problems.length > 0;
      if (!last || (!run.badEntityFiles.has(ref) && !fileBroken)) continue;
      const reason = run.badEntityFiles.get(ref) ?? parsed.problems[0]?.message ?? 'its file has errors';
      run.candidates.set(ref, {
        stored: { ...last, stale: true, staleReason: reason },
        file: abs,
        fresh: true,
      });
      refsInFile.push(ref);
    }
  }
  run.fileRows.push({ path: abs, hash: file.hash, entityRefs: refsInFile, ok });
  return targets;
}

/**
 * Claim a ref for the file defining it. Defined twice: the file that already owned it in the store keeps it,
 * otherwise the first in path order; the other definition is reported. True when `c` holds the ref.
 */
export function claim(run: IngestRun, c: Candidate, line: number, column: number): boolean {
  const existing = run.candidates.get(c.stored.ref);
  if (existing && existing.file !== c.file) {
    const prior = run.known.entities.get(c.stored.ref)?.sourceFile;
    const keepNew = prior === c.file && existing.file !== prior;
    const loser = keepNew ? existing : c;
    const winner = keepNew ? c : existing;
    run.errors.push({
      file: displayPath(loser.file),
      line: loser.position?.line ?? line,
      column: loser.position?.column ?? column,
      entityRef: c.stored.ref,
      message: `${c.stored.ref} is already defined in ${displayPath(winner.file)}:${winner.stored.line ?? 1}; each entity must be defined once. Remove one of the two definitions`,
    });
    if (keepNew) run.candidates.set(c.stored.ref, c);
    return keepNew;
  }
  run.candidates.set(c.stored.ref, c);
  return true;
}

/**
 * follow (discover, continued): queue the files a Location lists, each once, confined as the file that
 * lists it; a target outside its confinement or leading back along the chain is reported and not read.
 */
export async function follow(run: IngestRun, item: QueuedFile, targets: LocationTarget[]): Promise<void> {
  const display = displayPath;
  for (const { target, type, path: fieldPath, positionOf } of targets) {
    // As Backstage: a URL target is read as a URL when its Location says `type: url`, or says nothing and
    // was itself read from a URL.
    const asUrl =
      isUrlTarget(target) &&
      (type ?? (locationOf(run.opts, item.abs).startsWith('url:') ? 'url' : 'file')).toLowerCase() === 'url';
    const resolved = asUrl
      ? await readUrlTarget(run.opts.urls, target)
      : await resolveLocationTarget(item.confine, item.abs, target, run.realPaths);
    const where = () => (positionOf ? positionOf(fieldPath) : { line: 1, column: 1 });
    if ('error' in resolved) {
      run.errors.push({ file: display(item.abs), ...where(), message: resolved.error });
      continue;
    }
    const chain = [...item.via, item.abs];
    if (chain.includes(resolved.abs)) {
      run.errors.push({
        file: display(item.abs),
        ...where(),
        message: `Location target "${target}" leads back to ${display(resolved.abs)}: the locations form a cycle (${[...chain, resolved.abs].map(display).join(' → ')}); it was read once`,
      });
      continue;
    }
    if (!run.seen.has(resolved.abs)) {
      run.seen.add(resolved.abs);
      run.queue.push({
        abs: resolved.abs,
        root: item.root,
        // A URL's copy keeps its targets and placeholders inside its own host's folder.
        confine: asUrl ? (run.opts.confineOf?.(resolved.abs) ?? path.dirname(resolved.abs)) : item.confine,
        via: chain,
        origin: item.origin,
      });
    }
  }
}

const under = (r: string, p: string) => p === r || p.startsWith(r + path.sep);

/** A catalog-info.yaml of the portal's own tree: it is the catalogue, so what leaves it leaves. */
function isTreeFile(run: IngestRun, p: string): boolean {
  return run.treeRoots.some((r) => under(r, p) && isDescriptorPath(r, p));
}

/**
 * claim locations: which files leave and what becomes of the entities not read. Catalog-info files of the
 * tree that are gone leave (only under the directories this run walked: a run that read one file says
 * nothing about any other); files a Location read last time and no longer lists (nor does anything else this
 * run) leave too, their entities kept marked orphan as Backstage keeps them; forgotten files leave with their
 * entities. Entities of unread files stay as they are. False when nothing changed (nothing read, nothing
 * gone, no problems to re-check): then the catalogue is as it was and nothing is written.
 */
export function claimLocations(run: IngestRun): boolean {
  const { known, touchedFiles, forget, treeRemoved, released, candidates } = run;
  for (const p of known.files.keys()) {
    if (touchedFiles.has(p) || forget.has(p)) continue;
    if (run.dirRoots.some((r) => under(r, p)) && isTreeFile(run, p)) treeRemoved.add(p);
  }
  const release = (file: string, entityRefs: readonly string[]) => {
    for (const ref of entityRefs) {
      const stored = known.entities.get(ref);
      if (stored?.entity.kind.toLowerCase() !== 'location') continue;
      // A Location kept at its last good version (its file turned bad) keeps what it listed.
      if (candidates.get(ref)?.stored.stale) continue;
      for (const { target } of locationTargetsOf(stored.entity)) {
        const real = targetPath(file, target, run.opts.urls, run.realPaths);
        const row = known.files.get(real);
        if (!row || touchedFiles.has(real) || released.has(real) || forget.has(real)) continue;
        if (treeRemoved.has(real)) continue;
        released.add(real);
        release(real, row.entityRefs);
      }
    }
  };
  for (const file of [...touchedFiles, ...treeRemoved]) {
    const prior = known.files.get(file);
    if (prior) release(file, prior.entityRefs);
  }
  if (
    run.changed === 0 &&
    treeRemoved.size === 0 &&
    released.size === 0 &&
    forget.size === 0 &&
    run.dropOrphans.size === 0 &&
    run.errors.length === 0 &&
    known.entities.size > 0 &&
    !run.opts.force
  )
    return false;
  run.removedFiles = [
    ...new Set([...treeRemoved, ...released, ...[...forget].filter((p) => known.files.has(p))]),
  ].filter((p) => !touchedFiles.has(p));
  // Entities not read this run: those their location no longer lists stay marked orphan, unless the portal's
  // own tree defined them (then they leave with it).
  for (const [ref, stored] of known.entities) {
    if (candidates.has(ref)) continue;
    const file = stored.sourceFile;
    if (file && forget.has(file)) continue;
    if (isOrphan(stored.entity)) {
      if (!run.dropOrphans.has(ref)) candidates.set(ref, { stored, file: file ?? '', fresh: false });
      continue;
    }
    if (!file) continue;
    const droppedByItsFile = touchedFiles.has(file) || treeRemoved.has(file);
    if (released.has(file) || (droppedByItsFile && !isTreeFile(run, file))) {
      candidates.set(ref, { stored: orphaned(stored), file, fresh: true });
      run.orphanedNow.push(ref);
    } else if (!droppedByItsFile && known.files.has(file)) {
      candidates.set(ref, { stored, file, fresh: false });
    }
  }
  return true;
}

/**
 * check references: every candidate's references must resolve; one that fails keeps its last good version
 * (stale) or is left out, which may make others fail in turn (up to ten passes). Under Backstage's rules, or
 * a policy at `warning`, a dangling reference is a warning and the entity is kept.
 */
export function checkReferences(run: IngestRun): void {
  const { known, candidates, errors } = run;
  // Closest names cost a scan of every ref: enough for people to act on, bounded when a whole tree is broken.
  let suggestionBudget = 200;
  const suggestIn = (refs: Set<string>) => (raw: string, kind?: string) =>
    suggestionBudget-- <= 0 ? [] : closestOfKind(raw, refs, kind);
  // An entity that did not change checked out last time against the refs then stored. Its references still
  // resolve unless one named an entity that is gone, and then the two were related: so only what was read
  // anew, and the old partners of what is gone, need checking.
  const partnersOfGone = (refs: Set<string>) => {
    const partners = new Set<string>();
    for (const ref of known.entities.keys()) {
      if (refs.has(ref)) continue;
      for (const r of known.relations.get(ref) ?? []) partners.add(r.targetRef);
    }
    return partners;
  };
  const warned = new Set<string>();
  const where = (c: Candidate, p: { path: (string | number)[] }) =>
    c.positionOf ? c.positionOf(p.path) : { line: c.stored.line ?? 1, column: 1 };
  for (let pass = 0; pass < 10; pass++) {
    const refs = new Set(candidates.keys());
    const suggest = suggestIn(refs);
    const mayFail = partnersOfGone(refs);
    let dropped = 0;
    for (const [ref, c] of candidates) {
      if (c.stored.stale) continue;
      if (!c.fresh && known.entities.get(ref) === c.stored && !mayFail.has(ref)) continue;
      const policy = policyOf(run.policies, c.file);
      const problems = checkEntityReferences(c.stored.entity, refs, suggest, {
        targetKinds: policy.name === 'bank',
      });
      if (problems.length === 0) continue;
      // Backstage keeps an entity whose references dangle, and its relations; so does a policy at `warning`.
      if (policy.name === 'backstage' || policy.level === 'warning') {
        if (warned.has(ref)) continue;
        warned.add(ref);
        for (const p of problems)
          errors.push({
            file: displayPath(c.file),
            ...where(c, p),
            entityRef: ref,
            message: p.message,
            severity: 'warning',
          });
        run.warnedFiles.add(c.file);
        continue;
      }
      if (pass === 0 || c.fresh) {
        for (const p of problems)
          errors.push({ file: displayPath(c.file), ...where(c, p), entityRef: ref, message: p.message });
      }
      const last = known.entities.get(ref);
      if (
        last &&
        !sameBody(last.entity, c.stored.entity) &&
        checkEntityReferences(last.entity, refs, suggest).length === 0
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
      const row = run.fileRows.find((f) => f.path === c.file);
      if (row) row.ok = false;
    }
    if (dropped === 0) break;
  }
  for (const [ref, c] of candidates)
    if (c.stored.stale) run.badEntityFiles.set(ref, c.stored.staleReason ?? '');
}

/**
 * diff relations: the relations of the final set and the difference from what is stored, recomputed around
 * what changed (changedRelations), or in full for a first ingest or when much changed; and the entities to
 * write and to remove.
 */
export function diffRelations(run: IngestRun): CatalogChange {
  const { known: state, candidates } = run;
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
    for (const source of state.relations.keys()) if (!relations.has(source)) relationChanges.set(source, []);
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
  return { upsert, removed, relationChanges };
}

/**
 * commit: the change, the changed file rows and the problems, written in one transaction (the store refuses
 * it if another writer moved on since `known` was read); only after it committed, the known catalogue
 * takes the change.
 */
export async function commit(run: IngestRun, store: IngestStore, change: CatalogChange): Promise<void> {
  const { known: state, fileRows, removedFiles } = run;
  for (const row of fileRows) if (run.warnedFiles.has(row.path)) row.ok = false;
  const errorRows: IngestErrorRow[] = run.errors.map((e) => ({
    file: e.file,
    line: e.line,
    column: e.column,
    entityRef: e.entityRef ?? null,
    message: e.severity === 'warning' ? `${WARNING_PREFIX}${e.message}` : e.message,
  }));
  // The stored problems of what this ingest read, or saw gone, are replaced; the others' stay.
  const errorsFor = run.opts.wholeCatalogue
    ? undefined
    : [...[...run.touchedFiles, ...removedFiles].map(displayPath), ...run.errors.map((e) => e.file)];
  state.generation = await store.write(
    {
      upsert: change.upsert,
      remove: change.removed,
      relations: change.relationChanges,
      files: fileRows.filter((f) => !sameFile(state.files.get(f.path), f)),
      removeFiles: removedFiles,
      errors: errorRows,
      errorsFor,
    },
    state.generation,
  );
  for (const ref of change.removed) state.entities.delete(ref);
  for (const e of change.upsert) state.entities.set(e.ref, e);
  for (const [source, list] of change.relationChanges) {
    if (list.length === 0) state.relations.delete(source);
    else state.relations.set(source, list);
  }
  for (const p of removedFiles) state.files.delete(p);
  for (const f of fileRows) state.files.set(f.path, f);
}

/** Whether the catalogue marked this entity orphan (its location no longer lists it). */
export function isOrphan(entity: Entity): boolean {
  return entity.metadata.annotations?.['backstage.io/orphan'] === 'true';
}

/** What a file's entities say brought it in (their `managed-by-origin-location`, as written), if the store knows it. */
function originOfKnown(state: KnownCatalogue, file: string): string | undefined {
  const ref = state.files.get(file)?.entityRefs[0];
  return ref ? state.entities.get(ref)?.entity.metadata.annotations?.[ORIGIN] : undefined;
}

/** What `backstage.io/managed-by-location` names a file by: `url:<url>` for a URL's local copy, else `file:<path>`. */
function locationOf(opts: IngestOptions, file: string): string {
  return opts.urls?.locationOf(file) ?? `file:${file}`;
}

/** The entity marked orphan, with a new etag (Backstage changes the etag with any change). */
function orphaned(stored: StoredEntity): StoredEntity {
  const annotations = { ...(stored.entity.metadata.annotations ?? {}), 'backstage.io/orphan': 'true' };
  const metadata = { ...stored.entity.metadata, annotations, etag: '' };
  const entity = { ...stored.entity, metadata } as Entity;
  entity.metadata.etag = createHash('sha1').update(JSON.stringify(entity)).digest('hex');
  return { ...stored, entity, stale: false, staleReason: null };
}

/** The real path of a file, or of its folder when the file is gone (as the store names files). */
function realPathOf(p: string): string {
  const abs = path.resolve(p);
  try {
    return realpathSync.native(abs);
  } catch {
    try {
      return path.join(realpathSync.native(path.dirname(abs)), path.basename(abs));
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
 * Where a Location target written in `file` points, as the store names files (real path when it exists; a URL's
 * local copy when `urls` is given).
 */
export function targetPath(file: string, target: string, urls?: UrlTargets, memo?: RealPaths): string {
  let abs: string;
  try {
    abs =
      urls && isUrlTarget(target)
        ? urls.fileOf(target)
        : path.resolve(path.dirname(file), target.replace(/^file:/, ''));
  } catch {
    return target;
  }
  const known = memo?.get(abs);
  if (known !== undefined) return known ?? abs;
  let real: string | null;
  try {
    real = realpathSync.native(abs);
  } catch {
    real = null;
  }
  memo?.set(abs, real);
  return real ?? abs;
}
