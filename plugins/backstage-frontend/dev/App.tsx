/**
 * A minimal Backstage app with the plugin in it, as `packages/app` of an installation has it: createApp
 * from @backstage/app-defaults, the plugin's page in FlatRoutes, and the catalogue's entity page
 * (@backstage/plugin-catalog's CatalogEntityPage and EntityLayout) with the plugin's card on the overview
 * and its content as an EntityLayout.Route tab. The entity is read from the catalogue through Backstage's
 * catalog client, the plugin's answers through discoveryApi and fetchApi: both from the app's config.
 */
import { createApp } from '@backstage/app-defaults';
import { AppRouter, FlatRoutes } from '@backstage/core-app-api';
import { AlertDisplay, OAuthRequestDialog } from '@backstage/core-components';
import { configApiRef, createApiFactory } from '@backstage/core-plugin-api';
import { ScmIntegrationsApi, scmIntegrationsApiRef } from '@backstage/integration-react';
import {
  CatalogEntityPage,
  CatalogIndexPage,
  catalogPlugin,
  EntityAboutCard,
  EntityLayout,
} from '@backstage/plugin-catalog';
import { Grid } from '@material-ui/core';
import { Navigate, Route } from 'react-router-dom';
import { EntityPortalCard, EntityPortalContent, PortalPathTracerPage, portalPlugin } from '../src/index.ts';

const app = createApp({
  plugins: [catalogPlugin, portalPlugin],
  // As packages/app/src/apis.ts of @backstage/create-app: the catalogue's About card reads SCM integrations.
  apis: [
    createApiFactory({
      api: scmIntegrationsApiRef,
      deps: { configApi: configApiRef },
      factory: ({ configApi }) => ScmIntegrationsApi.fromConfig(configApi),
    }),
  ],
});

/** The entity page of packages/app/src/components/catalog/EntityPage.tsx, cut down to what this plugin adds. */
const entityPage = (
  <EntityLayout>
    <EntityLayout.Route path="/" title="Overview">
      <Grid container spacing={3} alignItems="stretch">
        <Grid item md={6}>
          <EntityAboutCard />
        </Grid>
        <Grid item md={6}>
          <EntityPortalCard />
        </Grid>
      </Grid>
    </EntityLayout.Route>
    <EntityLayout.Route path="/portal" title="Paths & blast radius">
      <EntityPortalContent />
    </EntityLayout.Route>
  </EntityLayout>
);

export const App = app.createRoot(
  <>
    <AlertDisplay />
    <OAuthRequestDialog />
    <AppRouter>
      <FlatRoutes>
        <Route path="/" element={<Navigate to="/portal/paths" />} />
        <Route path="/portal/paths" element={<PortalPathTracerPage />} />
        {/* The entity page links back to the catalogue's index (its breadcrumb): the route must exist. */}
        <Route path="/catalog" element={<CatalogIndexPage />} />
        <Route path="/catalog/:namespace/:kind/:name" element={<CatalogEntityPage />}>
          {entityPage}
        </Route>
      </FlatRoutes>
    </AppRouter>
  </>,
);
