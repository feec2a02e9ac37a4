import { type CatalogService, createCatalogRouter } from '@bank/plugin-catalog';
import { createDeploysRouter, type DeploysService } from '@bank/plugin-deploys';
import { createEntityRouter } from '@bank/plugin-entity';
import { createExplorerRouter } from '@bank/plugin-explorer';
import { createGraphRouter } from '@bank/plugin-graph';
import type { Auth } from '@bank/plugin-kit';
import { createScaffolderRouter } from '@bank/plugin-scaffolder';
import { createSearchRouter } from '@bank/plugin-search';
import type { Hono } from 'hono';
import type { GraphService } from './graph.ts';

/** What the portal hands every plugin. */
export interface PortalContext {
  catalog: CatalogService;
  graph: GraphService;
  auth: Auth;
  deploys: DeploysService;
}

/**
 * The plugin registry: each feature plugin's router mounted at /api/<id>. Removing a plugin's folder and
 * its line here removes the feature.
 */
export async function mountPlugins(app: Hono, ctx: PortalContext): Promise<void> {
  app.route('/api/catalog', createCatalogRouter({ catalog: ctx.catalog, auth: ctx.auth }));
  app.route('/api/graph', createGraphRouter({ getIndex: () => ctx.graph.current }));
  app.route('/api/search', createSearchRouter({ catalog: ctx.catalog }));
  app.route('/api/entity', createEntityRouter({ catalog: ctx.catalog, getIndex: () => ctx.graph.current }));
  app.route('/api/explorer', createExplorerRouter({ getIndex: () => ctx.graph.current }));
  app.route('/api/scaffolder', createScaffolderRouter({ catalog: ctx.catalog, auth: ctx.auth }));
  app.route('/api/deploys', createDeploysRouter({ deploys: ctx.deploys, auth: ctx.auth }));
}
