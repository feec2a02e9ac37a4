export * from './errors.ts';
export * from './plugin.ts';
