/**
 * The bank portal's views inside Backstage: call paths, blast radius, deploy changes and drift. Written
 * against @backstage/core-plugin-api (the app's legacy plugin system, what `packages/app` of most
 * installations runs); the README shows where each extension goes.
 */

export {
  type PortalApi,
  PortalClient,
  type PortalClientOptions,
  PortalUnreachableError,
  portalApiRef,
} from './api/PortalClient.ts';
export type * from './api/types.ts';
export { EntityPortalCard, EntityPortalContent, PortalPathTracerPage, portalPlugin } from './plugin.ts';
export { entityContentRouteRef, rootRouteRef } from './routes.ts';
