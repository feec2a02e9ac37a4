export {
  buildRows,
  type CatalogueRow,
  type LevelColumnSource,
  type RowDeploy,
  rowsOf,
  withLevels,
} from './lib/rows.ts';
export { type SearchHit, type SearchResult, search } from './lib/search.ts';
export {
  FACETS,
  type Facet,
  type FacetCount,
  parseTableQuery,
  type TablePage,
  type TableQuery,
  tablePage,
} from './lib/table.ts';
export { createSearchRouter, type DeployColumnSource, type SearchRouterDeps } from './server/router.ts';
