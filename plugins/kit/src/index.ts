/**
 * What every plugin shares: auth types, the one streaming body reader, CLI helpers, errors and their HTTP
 * statuses, the Hono app every router starts from. `@bank/plugin-kit/cli` is the CLI helpers alone, without
 * the HTTP framework (for `portal`'s start-up).
 */
export * from './auth.ts';
export * from './body.ts';
export * from './cli.ts';
export * from './errors.ts';
export * from './http.ts';
