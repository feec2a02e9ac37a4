/**
 * What the portal's pages import: the wire types of the search and catalogue-table answers and the facet
 * list to read them with. Nothing here loads a server module, so client code may bundle it.
 */
export { FACETS, type Facet } from './lib/facets.ts';
export type { CatalogueRow, RowDeploy } from './lib/rows.ts';
export type { SearchHit, SearchResult } from './lib/search.ts';
export type { FacetCount, TablePage, TableQuery } from './lib/table.ts';
