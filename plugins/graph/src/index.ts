export { type CliIo, registerGraphCommands } from './cli.ts';
export { toPortalError } from './lib/errors.ts';
export { createGraphRouter, type GraphRouterDeps } from './server/router.ts';
