import { EventEmitter } from 'node:events';
import { type CatalogStore, Ingester, type IngestOptions, type IngestResult } from '@bank/catalog';
import { CatalogView } from './lib/view.ts';

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
    if (result.reloaded) {
      await this.reloadView();
    } else if (
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
      const snap = await this.ingester.snapshot();
      this.current = new CatalogView(snap.entities, snap.relations);
      this.emit('change', r, this.current);
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
    const snap = await this.ingester.snapshot();
    this.current = new CatalogView(snap.entities, snap.relations);
    this.emit('reload', this.current);
  }
}
