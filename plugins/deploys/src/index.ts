/**
 * The deploys plugin's public API. It does not load the Kubernetes client: live state from the clusters
 * (`ClusterWatch`, `clusterContextsFromEnv`) is `@bank/plugin-deploys/live`, imported only when
 * PORTAL_K8S_CONTEXTS names clusters; its types are here. Beside them: `@bank/plugin-deploys/cli` (the
 * commands, which `portal` imports only when one of them runs), `@bank/plugin-deploys/oncall` (who is on call,
 * for `portal path`'s hop notes without the deploy store or its router) and `@bank/plugin-deploys/testing`
 * (a fake Kubernetes API server for other packages' tests and the benches).
 */
export * from './cli.ts';
export * from './lib/compare.ts';
export * from './lib/demo.ts';
export * from './lib/github.ts';
export type {
  ByKubernetesId,
  ClusterContext,
  ClusterWatch,
  LiveEnvironment,
  LiveWorkload,
} from './lib/k8s-live.ts';
export * from './lib/model.ts';
export * from './lib/oncall.ts';
export * from './lib/service.ts';
export * from './lib/store.ts';
export * from './server/router.ts';
