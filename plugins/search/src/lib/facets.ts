/**
 * The filters the catalogue table offers; each is a facet with counts. Imports nothing, so the UI's client
 * code reads the list through `@bank/plugin-search/ui` (the server's answer is keyed by it).
 */
export const FACETS = [
  'kind',
  'type',
  'owner',
  'collective',
  'system',
  'tier',
  'lifecycle',
  'level',
] as const;
export type Facet = (typeof FACETS)[number];
