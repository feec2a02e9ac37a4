export * from './cli.ts';
export * from './lib/demo.ts';
export * from './lib/github.ts';
export * from './lib/k8s-live.ts';
export * from './lib/model.ts';
export * from './lib/service.ts';
export * from './lib/store.ts';
export * from './server/router.ts';
