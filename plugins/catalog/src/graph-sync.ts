import { applyChanges, buildGraphIndex, type GraphIndex } from '@bank/graph';
import { isSavedIndex, readGraphIndexFile, writeGraphIndexFile } from '@bank/graph/saved-index';
import type { CatalogView } from './lib/view.ts';
import type { CatalogService, ViewChange } from './service.ts';

/**
 * catalog → graph sync, beside the catalogue service it follows. The in-memory graph index, built from the
 * catalogue at start and updated incrementally after each
 * ingest (only the changed entities and those whose relations changed). Updates are synchronous, so a
 * query (also synchronous) sees the graph before or after an ingest, never half of one. Rebuilt whole when
 * the catalogue was reloaded because another writer changed the store.
 *
 * With `savedFile`, the index is read from the saved one at start when that was saved at the store
 * generation the catalogue was loaded at (no build), and saved again a moment after each build or change,
 * so the next start, and a `portal path` without a running portal, read it instead of building.
 */
export class GraphService {
  /** Undefined until first read when there was no saved index to start from (see current). */
  private index: GraphIndex | undefined;
  private rebuilt: Array<(index: GraphIndex) => void> = [];
  private beforeRead: Array<(index: GraphIndex) => void> = [];
  private saveTimer: NodeJS.Timeout | undefined;
  private savePending = false;
  /** How the index came to be at start: read from the saved file, or built from the catalogue. */
  readonly startedFrom: 'saved' | 'built';

  constructor(
    private readonly catalog: CatalogService,
    private readonly opts: { savedFile?: string; saveDelayMs?: number } = {},
  ) {
    const saved = opts.savedFile ? readGraphIndexFile(opts.savedFile) : undefined;
    if (saved && isSavedIndex(saved) && saved.generation === catalog.generation) {
      this.index = saved.index;
      this.startedFrom = 'saved';
    } else {
      if (saved && !isSavedIndex(saved) && saved.kind !== 'missing')
        process.stderr.write(
          `portal: the saved graph index ${opts.savedFile} ${saved.message}; building the graph from the catalogue\n`,
        );
      // Built when first read, not here: the catalogue answers while nothing has asked for the graph yet
      // (`npm start` at 3,500 services: half a second sooner).
      this.index = undefined;
      this.startedFrom = 'built';
    }
    catalog.on('change', (result, view) => {
      // Not built yet: it will be, from the view of that moment.
      if (!this.index) return;
      this.apply(result, view);
      this.scheduleSave();
    });
    // Another writer changed the store: the view was read afresh, and so is the graph.
    catalog.on('reload', (view) => {
      if (!this.index) return;
      this.build(view);
    });
  }

  /** A fresh index of `view`, handed to the onRebuild listeners before it is served, and saved soon. */
  private build(view: CatalogView): GraphIndex {
    const index = buildGraphIndex(view.all());
    for (const fn of this.rebuilt) fn(index);
    this.index = index;
    this.scheduleSave();
    return index;
  }

  /** The index if it was read or built already; never builds one. */
  peek(): GraphIndex | undefined {
    return this.index;
  }

  /** Called with each index built afresh, before it is served (observed traffic merges its edges in). */
  onRebuild(fn: (index: GraphIndex) => void): void {
    this.rebuilt.push(fn);
  }

  get current(): GraphIndex {
    const index = this.index ?? this.build(this.catalog.loaded);
    for (const fn of this.beforeRead) fn(index);
    return index;
  }

  /**
   * Called before every read of the index: observed traffic merges what arrived since the last read, so a
   * burst of trace batches costs one merge per read, not one per batch, and a reader always sees all of it.
   */
  onRead(fn: (index: GraphIndex) => void): void {
    this.beforeRead.push(fn);
  }

  /** Saves the index now if a save is waiting. */
  flushSave(): void {
    if (!this.savePending) return;
    this.savePending = false;
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    const file = this.opts.savedFile as string;
    try {
      // The catalogue's generation and the index match here: both change in the same synchronous step.
      if (this.index) writeGraphIndexFile(file, this.index, this.catalog.generation);
    } catch (err) {
      process.stderr.write(
        `warning: the saved graph index ${file} was not written: ${(err as Error).message}\n`,
      );
    }
  }

  /** Saving takes a moment at 35,000 services: after start-up and a burst of changes, not on their way. */
  private scheduleSave(): void {
    if (!this.opts.savedFile) return;
    this.savePending = true;
    this.saveTimer ??= setTimeout(() => {
      this.saveTimer = undefined;
      this.flushSave();
    }, this.opts.saveDelayMs ?? 1000).unref();
  }

  private apply(result: ViewChange, view: CatalogView): void {
    const refs = new Set([...result.upserted, ...result.relationsChanged]);
    const upserted = [...refs].map((r) => view.byRef.get(r)).filter((e) => e !== undefined);
    applyChanges(this.index as GraphIndex, { upserted, removed: result.removed });
  }
}
