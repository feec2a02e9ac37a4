export { defaultRoot, ingestWithProgress, registerCatalogCommands } from './cli.ts';
export { CatalogView, type ListFilter, listEntities, owners, type ServedEntity } from './lib/view.ts';
export { ingestProblemLines } from './problems.ts';
export { type CatalogRouterDeps, createCatalogRouter } from './server/router.ts';
export { CatalogService, type ViewChange } from './service.ts';
export { watchRoots } from './watch.ts';
