export { defaultRoot, ingestWithProgress, registerCatalogCommands } from './cli.ts';
export { GraphService } from './graph-sync.ts';
export { CatalogView, type ListFilter, listEntities, owners, type ServedEntity } from './lib/view.ts';
export { ingestProblemLines } from './problems.ts';
export { type CatalogRouterDeps, createCatalogRouter } from './server/router.ts';
export { CatalogService, type ViewChange } from './service.ts';
export {
  type CatalogSnapshot,
  isSnapshot,
  readSnapshot,
  SNAPSHOT_FORMAT,
  SNAPSHOT_VERSION,
  type SnapshotProblem,
  writeSnapshot,
} from './snapshot.ts';
export {
  descriptorOf,
  entitiesFromBackstage,
  importFromBackstage,
  parseFilters,
  writeDescriptors,
} from './transfer.ts';
export { watchRoots } from './watch.ts';
