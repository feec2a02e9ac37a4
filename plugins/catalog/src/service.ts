import { EventEmitter } from 'node:events';
import { type CatalogStore, Ingester, type IngestOptions, type IngestResult } from '@bank/catalog';
import { CatalogView } from './lib/view.ts';

/**
 * The catalogue as the portal runs it: the store, the ingester and the current read-only view.
 * Emits 'change' with the ingest result after every ingest that changed something, so the graph index can
 * update only what changed.
 */
export class CatalogService extends EventEmitter<{ change: [IngestResult, CatalogView] }> {
  private current: CatalogView | undefined;
  readonly ingester: Ingester;

  constructor(
    readonly store: CatalogStore,
    readonly roots: string[],
  ) {
    super();
    this.ingester = new Ingester(store);
  }

  /** The current view (loads the store the first time). */
  async view(): Promise<CatalogView> {
    if (!this.current) {
      const snap = await this.ingester.snapshot();
      this.current = new CatalogView(snap.entities, snap.relations);
    }
    return this.current;
  }

  /** The current view, if it was loaded; for synchronous readers such as HTTP handlers. */
  get loaded(): CatalogView {
    if (!this.current)
      throw new Error('The catalogue view is read before it was loaded; call view() at start-up');
    return this.current;
  }

  async ingest(roots = this.roots, opts: IngestOptions = {}): Promise<IngestResult> {
    const result = await this.ingester.ingest(roots, opts);
    if (
      !this.current ||
      result.upserted.length > 0 ||
      result.removed.length > 0 ||
      result.relationsChanged.length > 0
    ) {
      const snap = await this.ingester.snapshot();
      this.current = new CatalogView(snap.entities, snap.relations);
      this.emit('change', result, this.current);
    }
    return result;
  }
}
