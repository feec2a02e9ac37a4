import type { BackstageCredentials } from '@backstage/backend-plugin-api';
import type { Entity } from '@backstage/catalog-model';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { buildGraphIndex, type GraphIndex } from '@bank/graph';

/**
 * The parts of an entity the graph index reads (see @bank/graph's prepareEntity): asking the catalogue for
 * these only keeps API definitions and descriptions, most of a catalogue's bytes, off the wire.
 */
export const GRAPH_FIELDS = [
  'kind',
  'metadata.name',
  'metadata.namespace',
  'metadata.title',
  'metadata.annotations',
  'spec.type',
  'spec.lifecycle',
  'relations',
];

/**
 * Backstage's catalogue as the caller may see it, as one graph index. Read on behalf of the caller, so the
 * catalogue's permission policy decides which entities (and so which paths) exist for them: an index is
 * never shared between callers.
 */
export async function readCatalogueIndex(
  catalog: CatalogService,
  credentials: BackstageCredentials,
): Promise<{ index: GraphIndex; entities: number }> {
  const entities: Entity[] = [];
  for await (const page of catalog.streamEntities({ fields: GRAPH_FIELDS }, { credentials })) {
    entities.push(...page);
  }
  return { index: buildGraphIndex(entities), entities: entities.length };
}
