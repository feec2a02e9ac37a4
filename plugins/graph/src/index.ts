import type { GraphIndex } from '@bank/graph';
import type { PortalPlugin } from '@bank/plugin-kit';
import { createGraphRouter } from './server/router.ts';

/** The graph plugin: its router is mounted at /api/graph; its commands come from `registerGraphCommands`. */
export const graphPlugin: PortalPlugin<{ getIndex: () => GraphIndex }> = {
  id: 'graph',
  createRouter: (ctx) => createGraphRouter({ getIndex: ctx.getIndex }),
};

export { type CliIo, registerGraphCommands } from './cli.ts';
export { toPortalError } from './lib/errors.ts';
export { createGraphRouter, type GraphRouterDeps } from './server/router.ts';
