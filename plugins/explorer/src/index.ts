export { buildEstateGraph, type EstateGraph, type EstateNode, estateGraph } from './lib/estate.ts';
export { type OrgChart, type OrgCollective, type OrgSquad, orgChart } from './lib/org.ts';
export { createExplorerRouter, type ExplorerRouterDeps } from './server/router.ts';
