import type { Entity } from '@backstage/catalog-model';
import { NullStore } from '../store/memory.ts';
import { type IngestError, Ingester } from './ingest.ts';

/**
 * Read descriptor trees into memory, with relations computed as the catalogue would store them.
 * Nothing is written anywhere: `portal validate` and tests use this.
 */
export async function readCatalogTree(
  ...roots: string[]
): Promise<{ entities: Entity[]; errors: IngestError[] }> {
  const ingester = new Ingester(new NullStore());
  const result = await ingester.ingest(roots);
  const { entities, relations } = await ingester.snapshot();
  return {
    entities: [...entities.values()].map((e) => ({ ...e.entity, relations: relations.get(e.ref) ?? [] })),
    errors: result.errors,
  };
}
