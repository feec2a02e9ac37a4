export { registerCatalogCommands, ingestWithProgress, defaultRoot } from './cli.ts';
export { CatalogService } from './service.ts';
export { watchRoots } from './watch.ts';
export { CatalogView, listEntities, owners, type ServedEntity, type ListFilter } from './lib/view.ts';
export { createCatalogRouter, type CatalogRouterDeps } from './server/router.ts';
