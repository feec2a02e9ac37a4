export {
  type CallLink,
  type EntityBundle,
  type EntitySummary,
  entityBundle,
  reachable,
  summarise,
} from './lib/bundle.ts';
export {
  desiredStateOf,
  type K8sAnswer,
  type K8sState,
  type K8sWorkload,
  readDesiredState,
} from './lib/k8s.ts';
export { createEntityRouter, type EntityRouterDeps } from './server/router.ts';
