/**
 * @bank/graph: the estate's dependency and ownership graph. One index type, free query functions taking
 * the index first, then refs, then options.
 */

export {
  callNodes,
  type DeclaredCall,
  declaredCalls,
  forEachCall,
  forEachCallNeighbour,
  forEachCallOf,
  hasCallNode,
  relationTargets,
} from './calls.ts';
export { callEdge, collectiveOf, type GroupFacts, nearestCollective, nodeCard } from './card.ts';
export { type CallCycle, type CyclesResult, cycles } from './cycles.ts';
export { GraphBackendError, GraphQueryError, MalformedRefError, UnknownRefError } from './errors.ts';
export { EXPORT_FORMATS, type ExportFormat, type ExportOptions, exportGraph } from './export.ts';
export {
  addObservedEdge,
  applyChanges,
  buildGraphIndex,
  type ChangeSummary,
  type EntityChanges,
  GraphIndex,
  mergeObserved,
  type ObservedEdgeInput,
  relationCount,
  removeObservedEdge,
} from './graph-index.ts';
export {
  type Dependent,
  IMPACT_LIMITS,
  type ImpactOptions,
  type ImpactResult,
  type ImpactRollup,
  impact,
} from './impact.ts';
export {
  type Direction,
  NEIGHBOURHOOD_LIMITS,
  type NeighbourhoodOptions,
  type NeighbourhoodResult,
  neighbourhood,
} from './neighbourhood.ts';
export {
  type CypherRunner,
  type CypherStatement,
  connectNeo4j,
  driverRunner,
  type Neo4jConfig,
  neo4jConfigFromEnv,
  type SyncOptions,
  type SyncSummary,
  syncStatements,
  syncToNeo4j,
} from './neo4j.ts';
export { type OwnershipResult, ownership } from './ownership.ts';
export {
  type CallPath,
  PATHS_LIMITS,
  type PathsOptions,
  type PathsResult,
  type PathsUnreachable,
  paths,
} from './paths.ts';
export { type ResolveOptions, refLookupOf, resolveRef } from './resolve.ts';
export type * from './types.ts';
