import { coreServices, createBackendPlugin } from '@backstage/backend-plugin-api';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { createRouter } from './router.ts';

/**
 * The portal's graph queries inside a Backstage backend (new backend system), at /api/portal-graph. Every
 * route needs a user or service token, as Backstage's default auth policy requires.
 */
export const portalGraphPlugin = createBackendPlugin({
  pluginId: 'portal-graph',
  register(env) {
    env.registerInit({
      deps: {
        httpRouter: coreServices.httpRouter,
        logger: coreServices.logger,
        httpAuth: coreServices.httpAuth,
        catalog: catalogServiceRef,
      },
      async init({ httpRouter, logger, httpAuth, catalog }) {
        httpRouter.use(await createRouter({ logger, httpAuth, catalog }));
      },
    });
  },
});
