export { EDGE_DECLARED, EDGE_OBSERVED } from './lib/edge-flags.ts';
export {
  buildEstateGraph,
  type EstateGraph,
  type EstateNode,
  estateGraph,
  type GroupRow,
} from './lib/estate.ts';
export { type OrgChart, type OrgCollective, type OrgSquad, orgChart } from './lib/org.ts';
export { createExplorerRouter, type ExplorerRouterDeps } from './server/router.ts';
