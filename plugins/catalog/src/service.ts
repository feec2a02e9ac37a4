import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type CatalogStore,
  type Entity,
  filesReachedFrom,
  Ingester,
  type IngestOptions,
  type IngestResult,
  isDescriptorPath,
  isOrphan,
  type LocationRow,
  listingFileOf,
  locationTargetsOf,
  mirrorConfineOf,
  mirrorPathOf,
  mirrorUrlLocation,
  rawUrlOf,
  UrlReader,
  type UrlTargets,
  urlOfMirrorPath,
} from '@bank/catalog';
import { ConflictError, InputError, NotFoundError } from '@bank/plugin-kit';
import { CatalogView } from './lib/view.ts';
import { type CatalogSnapshot, snapshotStamp, writeSnapshot } from './snapshot.ts';

/** What changed between two views: refs written, removed, and whose relations changed. */
export interface ViewChange {
  upserted: string[];
  removed: string[];
  relationsChanged: string[];
}

/**
 * The catalogue as the portal runs it: the store, the ingester and the current read-only view.
 * Emits 'change' with the ingest result after every ingest that changed something, so the graph index can
 * update only what changed; and 'reload' when the view was read afresh from the store because another writer
 * (another portal on the same PostgreSQL, `portal ingest` in a terminal) changed it.
 */
export class CatalogService extends EventEmitter<{
  change: [ViewChange, CatalogView];
  reload: [CatalogView];
}> {
  private current: CatalogView | undefined;
  private currentGeneration = -1;
  readonly snapshotFile: string | undefined;
  /** 0: the snapshot is written at once; else at most once per this many ms. */
  snapshotDelayMs: number;
  private snapshotTimer: NodeJS.Timeout | undefined;
  /** When the store was created (its first migration), to tell its snapshot from another store's. */
  private storeCreatedMs: number | undefined;
  private pendingSnapshot: CatalogSnapshot | undefined;
  readonly ingester: Ingester;
  /** Reads URL locations (allow-list, limits: see UrlReader); PORTAL_READING_* by default. */
  readonly reader: UrlReader;
  /** Where URL locations are mirrored to be ingested (PORTAL_URL_MIRROR; default under the temp folder). */
  readonly mirrorDir: string;
  /** Registered URL locations by their copy's path, as the last ingest found them (see urlTargets). */
  private registeredUrls = new Map<string, string>();
  /** While refreshUrlLocations runs: the URL targets read again in this run, and why some could not be. */
  private rereading: { read: Set<string>; failed: { url: string; error: string }[] } | undefined;

  constructor(
    readonly store: CatalogStore,
    readonly roots: string[],
    opts: {
      reader?: UrlReader;
      mirrorDir?: string;
      /**
       * Keep a catalogue snapshot in this file (see snapshot.ts), written each time the view is loaded or
       * changes: at once, or at most once per `snapshotDelayMs` (a server taking in many edits).
       */
      snapshotFile?: string;
      snapshotDelayMs?: number;
    } = {},
  ) {
    super();
    this.snapshotFile = opts.snapshotFile;
    this.snapshotDelayMs = opts.snapshotDelayMs ?? 0;
    this.ingester = new Ingester(store);
    this.reader = opts.reader ?? new UrlReader();
    this.mirrorDir = path.resolve(
      opts.mirrorDir ?? process.env.PORTAL_URL_MIRROR ?? path.join(tmpdir(), 'portal-url-locations'),
    );
  }

  /** The local file a registered location is read from: its target, or a URL location's mirrored copy. */
  private fileOf(location: LocationRow): string {
    return location.type === 'url' ? this.copyOf(location.target) : location.target;
  }

  /** Where a URL's copy is in the mirror (a blob URL's under its raw file's URL, as mirrorUrlLocation keeps it). */
  private copyOf(url: string): string {
    return mirrorPathOf(this.mirrorDir, rawUrlOf(url));
  }

  /**
   * URLs for the ingester, read through the allow-listed reader into the mirror: a Location's `type: url`
   * targets are read once and then taken from the copy (read again by refreshUrlLocations and refreshEntity);
   * entities from a copy are managed by `url:<the url>`, the registered URL for a registered location's copy.
   */
  private readonly urlTargets: UrlTargets = {
    fileOf: (url) => this.copyOf(url),
    locationOf: (file) => {
      const registered = this.registeredUrls.get(file);
      if (registered) return `url:${registered}`;
      const url = mirrorConfineOf(this.mirrorDir, file) ? urlOfMirrorPath(this.mirrorDir, file) : undefined;
      return url ? `url:${url}` : `file:${file}`;
    },
    read: async (url) => {
      const copy = this.copyOf(url);
      const again = this.rereading && !this.rereading.read.has(url);
      if (existsSync(copy) && !again) return copy;
      this.rereading?.read.add(url);
      try {
        return (await this.mirror(url)).file;
      } catch (err) {
        // A URL that cannot be read again keeps its last good copy; the refresh reports why.
        if (!again || !existsSync(copy)) throw err;
        this.rereading?.failed.push({ url, error: (err as Error).message });
        return copy;
      }
    },
  };

  /** What every ingest is told: the tree, where targets stay, and how URLs are read. */
  private async ingestContext(): Promise<Pick<IngestOptions, 'treeRoots' | 'confineOf' | 'urls'>> {
    this.registeredUrls = new Map(
      (await this.store.locations())
        .filter((l) => l.type === 'url')
        .map((l) => [realOr(this.fileOf(l)), l.target]),
    );
    return {
      treeRoots: this.treeRoots(),
      confineOf: (root) => this.confineOf(root),
      urls: this.urlTargets,
    };
  }

  /** The current view (loads the store the first time). */
  async view(): Promise<CatalogView> {
    if (!this.current) {
      this.storeCreatedMs ??= await this.store.createdAt();
      this.setView(await this.ingester.snapshot());
    }
    return this.current as CatalogView;
  }

  /** The store generation the current view was read at (-1 before it is loaded). */
  get generation(): number {
    return this.currentGeneration;
  }

  /** The current view, if it was loaded; for synchronous readers such as HTTP handlers. */
  get loaded(): CatalogView {
    if (!this.current)
      throw new Error('The catalogue view is read before it was loaded; call view() at start-up');
    return this.current;
  }

  /**
   * Ingest these roots (default: the configured roots). The registered locations inside them are read too,
   * so a full ingest never drops what a client registered; the configured folders are the portal's own tree
   * (what leaves them leaves the catalogue), everything else follows Backstage's rules (see Ingester).
   */
  async ingest(roots = this.roots, opts: IngestOptions = {}): Promise<IngestResult> {
    const all = [...roots];
    // The whole catalogue: every registered location (each was inside a root when registered); a part of it
    // (a scaffolded service's folder): those inside that part.
    const whole = roots === this.roots;
    const given = roots.map(realOr);
    for (const loc of await this.store.locations()) {
      const file = this.fileOf(loc);
      // A URL location whose mirrored copy is gone (a wiped temp folder): read it again before a whole ingest
      // would take its absence for a removal.
      if (loc.type === 'url' && whole && !existsSync(file))
        await this.mirror(loc.target).catch(() => undefined);
      const wanted = whole || given.some((r) => under(r, file));
      if (wanted && !all.includes(file) && existsSync(file)) all.push(file);
    }
    return this.ingestExactly(all, { wholeCatalogue: whole && !opts.changed, ...opts });
  }

  private async ingestExactly(roots: string[], opts: IngestOptions): Promise<IngestResult> {
    const result = await this.ingester.ingest(roots, { ...(await this.ingestContext()), ...opts });
    await this.publish(result);
    return result;
  }

  /** The configured roots that are folders: the portal's own tree, walked for catalog-info.yaml. */
  private treeRoots(): string[] {
    return this.roots.map(realOr).filter((r) => isDir(r));
  }

  /**
   * What Location targets read from `file` must stay inside: the configured root it is in (a file root's
   * folder), as Backstage keeps a location's targets inside its repository.
   */
  confineOf(file: string): string | undefined {
    const mirrored = mirrorConfineOf(this.mirrorDir, file);
    if (mirrored) return mirrored;
    for (const r of this.roots.map(realOr)) {
      const confine = isDir(r) ? r : path.dirname(r);
      if (under(confine, file)) return confine;
    }
    return undefined;
  }

  /**
   * Backstage's refreshEntity: read again the file the entity came from, and only it (with what its
   * Locations list). When that file is gone: a catalog-info.yaml of the tree leaves as a deleted file does;
   * a file a Location brought in is left to that Location, which is read instead.
   */
  async refreshEntity(ref: string): Promise<IngestResult | undefined> {
    const { entities } = await this.ingester.snapshot();
    const stored = entities.get(ref);
    if (!stored) throw new NotFoundError(`No entity ${ref} to refresh`);
    const file = stored.sourceFile;
    if (!file) return undefined;
    // From a URL location: read the URL again first (a failed read keeps the last good copy, and says so).
    const url = this.urlTargets.locationOf(file);
    if (url.startsWith('url:')) await this.mirror(url.slice('url:'.length));
    if (existsSync(file)) return this.ingestExactly([file], { force: [file] });
    const treeRoot = this.treeRoots().find((r) => under(r, file) && isDescriptorPath(r, file));
    if (treeRoot) return this.ingestExactly([treeRoot], { changed: [file] });
    const parent = listingFileOf(file, await this.ingester.files(), entities, this.urlTargets);
    if (parent && existsSync(parent)) return this.ingestExactly([parent], { force: [parent] });
    return undefined;
  }

  /**
   * Backstage's addLocation for a file: read that file (and what its Locations list), record it as a
   * registered location, remove nothing. With `dryRun`, nothing is written and a file of which nothing can
   * be read is an error listing why.
   */
  async addLocation(
    target: string,
    opts: { dryRun?: boolean; onConflict?: 'refresh' | 'reject'; type?: 'file' | 'url' } = {},
  ): Promise<{ location: LocationRow; entities: Entity[]; exists: boolean; result: IngestResult }> {
    if (opts.type === 'url') return this.addUrlLocation(target, opts);
    let real: string;
    try {
      real = realpathSync(path.resolve(target));
    } catch {
      throw new InputError(`Location target "${target}" does not exist`);
    }
    if (!statSync(real).isFile())
      throw new InputError(`Location target "${target}" is a folder; register a descriptor file in it`);
    if (!this.confineOf(real)) {
      throw new InputError(
        `Location target "${target}" is outside the catalogue's roots (${this.roots.join(', ')})`,
      );
    }
    const existing = (await this.store.locations()).find((l) => l.target === real);
    if (existing && opts.onConflict !== 'refresh' && !opts.dryRun)
      throw new ConflictError(`Location ${real} is already registered (id ${existing.id})`);
    const location = existing ?? {
      id: locationId('file', real),
      type: 'file',
      target: real,
      entityRef: locationRef('file', real),
    };
    if (opts.dryRun) {
      const { result, entities } = await this.ingester.dryRun([real], await this.ingestContext());
      const read = result.readRefs.map((r) => entities.get(r)?.entity).filter((e): e is Entity => !!e);
      if (read.length === 0 && result.errors.length > 0) {
        throw new InputError(
          `Nothing in ${real} can be added: ${result.errors
            .map((e) => `${path.basename(e.file)}:${e.line}:${e.column} ${e.message}`)
            .join('; ')}`,
          { errors: result.errors },
        );
      }
      return { location, entities: read, exists: !!existing, result };
    }
    if (!existing) await this.store.addLocation(location);
    const result = await this.ingestExactly([real], {});
    const view = await this.view();
    const read = result.readRefs.map((r) => view.byRef.get(r)).filter((e) => !!e) as Entity[];
    return { location, entities: read, exists: !!existing, result };
  }

  /** Read a URL location (and what it names) into the mirror; a URL that may not or cannot be read is an InputError. */
  private async mirror(url: string): Promise<{ file: string; problems: string[] }> {
    const why = this.reader.refusal(url);
    if (why) throw new InputError(`Location target ${url}: ${why}`);
    try {
      return await mirrorUrlLocation(this.reader, url, this.mirrorDir);
    } catch (err) {
      throw new InputError(`Location target ${url} could not be read: ${(err as Error).message}`);
    }
  }

  /** addLocation for a URL: read through the reader into the mirror, then as a file location. */
  private async addUrlLocation(
    url: string,
    opts: { dryRun?: boolean; onConflict?: 'refresh' | 'reject' },
  ): Promise<{ location: LocationRow; entities: Entity[]; exists: boolean; result: IngestResult }> {
    const existing = (await this.store.locations()).find((l) => l.type === 'url' && l.target === url);
    if (existing && opts.onConflict !== 'refresh' && !opts.dryRun)
      throw new ConflictError(`Location ${url} is already registered (id ${existing.id})`);
    const { file } = await this.mirror(url);
    const location = existing ?? {
      id: locationId('url', url),
      type: 'url',
      target: url,
      entityRef: locationRef('url', url),
    };
    if (opts.dryRun) {
      const context = await this.ingestContext();
      // Not registered yet: its entities are still managed by the URL as given.
      this.registeredUrls.set(realOr(file), url);
      const { result, entities } = await this.ingester.dryRun([file], context);
      const read = result.readRefs.map((r) => entities.get(r)?.entity).filter((e): e is Entity => !!e);
      if (read.length === 0 && result.errors.length > 0)
        throw new InputError(
          `Nothing in ${url} can be added: ${result.errors.map((e) => `${e.line}:${e.column} ${e.message}`).join('; ')}`,
          { errors: result.errors },
        );
      return { location, entities: read, exists: !!existing, result };
    }
    if (!existing) await this.store.addLocation(location);
    const result = await this.ingestExactly([file], {});
    const view = await this.view();
    const read = result.readRefs.map((r) => view.byRef.get(r)).filter((e) => !!e) as Entity[];
    return { location, entities: read, exists: !!existing, result };
  }

  /**
   * Read every registered URL location again and ingest what changed (the schedule in `portal serve`). A URL
   * that cannot be read keeps its last good copy; its error is returned.
   */
  async refreshUrlLocations(): Promise<{
    read: string[];
    failed: { url: string; error: string }[];
    result?: IngestResult;
  }> {
    const read: string[] = [];
    const failed: { url: string; error: string }[] = [];
    const files: string[] = [];
    // Files whose Locations list URL targets: read again too, so those targets are (see urlTargets.read).
    const { entities } = await this.ingester.snapshot();
    for (const e of entities.values()) {
      if (e.entity.kind.toLowerCase() !== 'location' || !e.sourceFile) continue;
      if (
        locationTargetsOf(e.entity).some((t) => /^https?:\/\//i.test(t.target)) &&
        !files.includes(e.sourceFile)
      )
        files.push(e.sourceFile);
    }
    for (const loc of await this.store.locations()) {
      if (loc.type !== 'url') continue;
      try {
        files.push((await this.mirror(loc.target)).file);
        read.push(loc.target);
      } catch (err) {
        failed.push({ url: loc.target, error: (err as Error).message });
        const kept = this.fileOf(loc);
        if (existsSync(kept)) files.push(kept);
      }
    }
    if (files.length === 0) return { read, failed };
    this.rereading = { read: new Set(read), failed };
    try {
      const result = await this.ingestExactly(files.filter(existsSync), {});
      return { read: [...new Set([...read, ...this.rereading.read])], failed, result };
    } finally {
      this.rereading = undefined;
    }
  }

  /**
   * Refresh the URL locations every `ms` (PORTAL_URL_REFRESH_SECONDS in `portal serve`, default 300; 0 off),
   * one run at a time; failures are reported to `onError` and the last good copies stay. Returns a stop.
   */
  scheduleUrlRefresh(ms: number, onError: (message: string) => void = () => {}): () => void {
    if (!(ms > 0)) return () => {};
    let running = false;
    const timer = setInterval(async () => {
      if (running) return;
      running = true;
      try {
        const r = await this.refreshUrlLocations();
        for (const f of r.failed) onError(f.error);
      } catch (err) {
        onError((err as Error).message);
      } finally {
        running = false;
      }
    }, ms);
    timer.unref();
    return () => clearInterval(timer);
  }

  /**
   * Backstage's removeLocation: unregister it and remove exactly what it contributed (the files read
   * through it, and its orphans), except what another root or registered location still reaches.
   */
  async removeLocation(id: string): Promise<{ location: LocationRow; result: IngestResult }> {
    const locations = await this.store.locations();
    const location = locations.find((l) => l.id === id);
    if (!location) throw new NotFoundError(`No location with id "${id}"`);
    // What the other roots and locations reach is decided by their Location files as they are on disk now,
    // not as last read: one of them may have been edited to list a file this location also reached. A full
    // read (unchanged files skipped by hash) brings the store's knowledge up to date first.
    await this.ingest();
    const files = await this.ingester.files();
    const { entities } = await this.ingester.snapshot();
    const fromIt = filesReachedFrom([this.fileOf(location)], files, entities, this.urlTargets);
    const starts: string[] = [];
    for (const r of this.roots.map(realOr)) {
      if (isDir(r)) {
        for (const p of files.keys()) if (under(r, p) && isDescriptorPath(r, p)) starts.push(p);
      } else starts.push(r);
    }
    for (const l of locations) if (l.id !== id) starts.push(this.fileOf(l));
    const fromOthers = filesReachedFrom(starts, files, entities, this.urlTargets);
    const forget = [...fromIt].filter((p) => !fromOthers.has(p));
    const dropOrphans = [...entities.values()]
      .filter(
        (e) =>
          isOrphan(e.entity) &&
          e.entity.metadata.annotations?.['backstage.io/managed-by-origin-location'] ===
            `${location.type}:${location.target}`,
      )
      .map((e) => e.ref);
    await this.store.removeLocation(id);
    const result = await this.ingestExactly([], { forget, dropOrphans });
    return { location, result };
  }

  /** Backstage lets a client delete an orphan (it returns if a location lists it again); nothing else. */
  async removeOrphan(ref: string): Promise<IngestResult> {
    return this.ingestExactly([], { dropOrphans: [ref] });
  }

  private async publish(result: IngestResult): Promise<void> {
    if (result.reloaded) {
      await this.reloadView();
    } else if (
      !this.current ||
      result.upserted.length > 0 ||
      result.removed.length > 0 ||
      result.relationsChanged.length > 0
    ) {
      this.emit('change', result, this.setView(await this.ingester.snapshot()));
    }
  }

  /**
   * Take in what other writers changed in the store, if anything: only what they changed when the store's
   * change log says ('change'), everything otherwise ('reload'). True when the view changed.
   */
  async refresh(): Promise<boolean> {
    const r = await this.ingester.refresh();
    if (!r) return false;
    if (r.full) {
      await this.reloadView();
    } else {
      this.emit('change', r, this.setView(await this.ingester.snapshot()));
    }
    return true;
  }

  /**
   * Follow the store: every `intervalMs`, ask for its generation (one small query) and reload the view when
   * another writer moved it on. Returns a function that stops following.
   */
  followStore(intervalMs = 1000, onError = (err: Error) => process.stderr.write(`${err.message}\n`)) {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      this.refresh()
        .catch((err: Error) =>
          onError(new Error(`catalogue: reading other writers' changes failed: ${err.message}`)),
        )
        .finally(() => {
          running = false;
        });
    }, intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  private async reloadView(): Promise<void> {
    this.emit('reload', this.setView(await this.ingester.snapshot()));
  }

  private setView(snap: CatalogSnapshot): CatalogView {
    this.current = new CatalogView(snap.entities, snap.relations);
    this.currentGeneration = snap.generation;
    if (this.snapshotFile) {
      this.pendingSnapshot = snap;
      if (this.snapshotDelayMs <= 0) this.flushSnapshot();
      else
        this.snapshotTimer ??= setTimeout(() => {
          this.snapshotTimer = undefined;
          this.flushSnapshot();
        }, this.snapshotDelayMs).unref();
    }
    return this.current;
  }

  /**
   * Writes the snapshot now if one is waiting. A failure is only said: the snapshot is a cache (readers
   * check its generation and rebuild it), the store is untouched.
   */
  flushSnapshot(): void {
    const snap = this.pendingSnapshot;
    if (!snap || !this.snapshotFile) return;
    this.pendingSnapshot = undefined;
    try {
      // Already written at this generation of this store (a portal restarted on an unchanged store): the same
      // catalogue, kept as it is. A store made afresh after the file was written starts its generations anew.
      const stamp = snapshotStamp(this.snapshotFile);
      if (
        stamp?.generation === snap.generation &&
        this.storeCreatedMs !== undefined &&
        stamp.writtenAtMs > this.storeCreatedMs
      )
        return;
      writeSnapshot(this.snapshotFile, snap);
    } catch (err) {
      process.stderr.write(
        `warning: the catalogue snapshot ${this.snapshotFile} was not written: ${(err as Error).message}\n`,
      );
    }
  }
}

function realOr(p: string): string {
  try {
    return realpathSync(path.resolve(p));
  } catch {
    return path.resolve(p);
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function under(dir: string, p: string): boolean {
  return p === dir || p.startsWith(dir + path.sep);
}

/** Backstage's location id for a target: stable, so registering the same file twice finds the first. */
export function locationId(type: string, target: string): string {
  return createHash('sha1').update(`${type}:${target}`).digest('hex').slice(0, 32);
}

/** Backstage's generated Location entity ref (`location:default/generated-<sha1>`), required by the client. */
export function locationRef(type: string, target: string): string {
  return `location:default/generated-${createHash('sha1').update(`${type}:${target}`).digest('hex')}`;
}
