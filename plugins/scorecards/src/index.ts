/**
 * The scorecards plugin's public API. Beside it: `@bank/plugin-scorecards/cli` (the commands, which `portal`
 * imports only when one of them runs) and `@bank/plugin-scorecards/testing` (descriptor, manifest and
 * scorecard fixtures for other packages' tests).
 */
export * from './cli.ts';
export * from './lib/definition.ts';
export * from './lib/deploys.ts';
export * from './lib/evaluate.ts';
export * from './lib/facts.ts';
export * from './lib/queries.ts';
export * from './lib/rollup.ts';
export * from './lib/service.ts';
export * from './lib/store.ts';
export * from './lib/watch.ts';
export * from './server/router.ts';
