import type { CatalogSnapshot, IngestWrite } from './store.ts';

/** What the ingester needs of a store. */
export interface IngestStore {
  load(): Promise<CatalogSnapshot>;
  write(w: IngestWrite): Promise<void>;
}

/**
 * A store that keeps nothing: for reading a tree into memory (validation, `readCatalogTree`, tests of code
 * above the catalogue). The ingester keeps its own state, so nothing needs to be stored here.
 */
export class NullStore implements IngestStore {
  async load(): Promise<CatalogSnapshot> {
    return { entities: [], relations: new Map(), files: [], errors: [] };
  }
  async write(): Promise<void> {}
}
