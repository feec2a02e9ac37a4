export * from './auth.ts';
export * from './body.ts';
export * from './cli.ts';
export * from './errors.ts';
export * from './http.ts';
