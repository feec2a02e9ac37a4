/**
 * The graph plugin's public API: its router, the queries it answers (also the Backstage backend's, over the
 * same index) and the error mapping other plugins share. Beside it: `@bank/plugin-graph/cli` (the commands,
 * which `portal` imports only when one of them runs) and `@bank/plugin-graph/queries` (the queries alone,
 * without the Hono router: what the Backstage backend bundles).
 */
export { type CliIo, registerGraphCommands } from './cli.ts';
export { toPortalError } from './lib/errors.ts';
export {
  type RawParams,
  runCycles,
  runImpact,
  runNeighbourhood,
  runOwnership,
  runPaths,
} from './lib/queries.ts';
export { createGraphRouter, type GraphRouterDeps } from './server/router.ts';
