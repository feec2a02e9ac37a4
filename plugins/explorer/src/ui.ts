/**
 * What the portal's pages import: the wire types of the estate graph and the org chart and the edge flags to
 * read them with. Nothing here loads a server module, so client code may bundle it.
 */
export { EDGE_DECLARED, EDGE_OBSERVED } from './lib/edge-flags.ts';
export type { EstateGraph, EstateNode, GroupRow } from './lib/estate.ts';
export type { OrgChart, OrgCollective, OrgSquad } from './lib/org.ts';
