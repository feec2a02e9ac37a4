import { createRouteRef } from '@backstage/core-plugin-api';

/** The path tracer page (mount it at e.g. /portal/paths in the app's routes). */
export const rootRouteRef = createRouteRef({ id: 'portal' });

/** The entity tab (an EntityLayout.Route of the service entity page). */
export const entityContentRouteRef = createRouteRef({ id: 'portal:entity-content' });
