import {
  configApiRef,
  createApiFactory,
  createComponentExtension,
  createPlugin,
  createRoutableExtension,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { PortalClient, portalApiRef } from './api/PortalClient.ts';
import { entityContentRouteRef, rootRouteRef } from './routes.ts';

export const portalPlugin = createPlugin({
  id: 'portal',
  apis: [
    createApiFactory({
      api: portalApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef, configApi: configApiRef },
      factory: ({ discoveryApi, fetchApi, configApi }) =>
        new PortalClient({ discoveryApi, fetchApi, baseUrl: configApi.getOptionalString('portal.baseUrl') }),
    }),
  ],
  routes: { root: rootRouteRef, entityContent: entityContentRouteRef },
});

/** The path tracer: the call paths from one service to another, hop by hop, and what was deployed on them. */
export const PortalPathTracerPage = portalPlugin.provide(
  createRoutableExtension({
    name: 'PortalPathTracerPage',
    component: () => import('./components/PathTracerPage.tsx').then((m) => m.PathTracerPage),
    mountPoint: rootRouteRef,
  }),
);

/** The entity page's tab: blast radius, call paths from this service, deploy changes and drift. */
export const EntityPortalContent = portalPlugin.provide(
  createRoutableExtension({
    name: 'EntityPortalContent',
    component: () => import('./components/EntityPortalContent.tsx').then((m) => m.EntityPortalContent),
    mountPoint: entityContentRouteRef,
  }),
);

/** The entity overview's card: blast radius in figures, drift and recent deploys of the current entity. */
export const EntityPortalCard = portalPlugin.provide(
  createComponentExtension({
    name: 'EntityPortalCard',
    component: {
      lazy: () => import('./components/EntityPortalCard.tsx').then((m) => m.EntityPortalCard),
    },
  }),
);
