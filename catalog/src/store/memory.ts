import type { CatalogDelta, CatalogSnapshot, IngestWrite } from './store.ts';

/** What the ingester needs of a store. */
export interface IngestStore {
  load(): Promise<CatalogSnapshot>;
  /** Write if the store is still at generation `expected`; the new generation. */
  write(w: IngestWrite, expected: number): Promise<number>;
  /** The store's generation now, to tell whether another writer moved it on. */
  generation(): Promise<number>;
  /** What changed since a generation, when the store can say (else the ingester loads everything). */
  changesSince?(since: number): Promise<CatalogDelta | undefined>;
}

/**
 * A store that keeps nothing: for reading a tree into memory (validation, `readCatalogTree`, tests of code
 * above the catalogue). The ingester keeps its own state, so nothing needs to be stored here.
 */
export class NullStore implements IngestStore {
  private gen = 0;
  async load(): Promise<CatalogSnapshot> {
    return { entities: [], relations: new Map(), files: [], errors: [], generation: this.gen };
  }
  async write(): Promise<number> {
    return ++this.gen;
  }
  async generation(): Promise<number> {
    return this.gen;
  }
}
