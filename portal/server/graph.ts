import { applyChanges, buildGraphIndex, type GraphIndex } from '@bank/graph';
import type { CatalogService, CatalogView, ViewChange } from '@bank/plugin-catalog';

/**
 * The in-memory graph index, built from the catalogue at start and updated incrementally after each
 * ingest (only the changed entities and those whose relations changed). Updates are synchronous, so a
 * query (also synchronous) sees the graph before or after an ingest, never half of one. Rebuilt whole when
 * the catalogue was reloaded because another writer changed the store.
 */
export class GraphService {
  private index: GraphIndex;
  private rebuilt: Array<(index: GraphIndex) => void> = [];
  private beforeRead: Array<(index: GraphIndex) => void> = [];

  constructor(catalog: CatalogService) {
    this.index = buildGraphIndex(catalog.loaded.all());
    catalog.on('change', (result, view) => this.apply(result, view));
    // Another writer changed the store: the view was read afresh, and so is the graph.
    catalog.on('reload', (view) => {
      const index = buildGraphIndex(view.all());
      for (const fn of this.rebuilt) fn(index);
      this.index = index;
    });
  }

  /** Called with each index built afresh, before it is served (observed traffic merges its edges in). */
  onRebuild(fn: (index: GraphIndex) => void): void {
    this.rebuilt.push(fn);
  }

  get current(): GraphIndex {
    for (const fn of this.beforeRead) fn(this.index);
    return this.index;
  }

  /**
   * Called before every read of the index: observed traffic merges what arrived since the last read, so a
   * burst of trace batches costs one merge per read, not one per batch, and a reader always sees all of it.
   */
  onRead(fn: (index: GraphIndex) => void): void {
    this.beforeRead.push(fn);
  }

  private apply(result: ViewChange, view: CatalogView): void {
    const refs = new Set([...result.upserted, ...result.relationsChanged]);
    const upserted = [...refs].map((r) => view.byRef.get(r)).filter((e) => e !== undefined);
    applyChanges(this.index, { upserted, removed: result.removed });
  }
}
