import type { Auth } from '@bank/plugin-kit';
import { type CatalogService, createCatalogRouter } from '@bank/plugin-catalog';
import type { Hono } from 'hono';
import type { GraphService } from './graph.ts';

/** What the portal hands every plugin. */
export interface PortalContext {
  catalog: CatalogService;
  graph: GraphService;
  auth: Auth;
}

/**
 * The plugin registry: each feature plugin's router mounted at /api/<id>. Removing a plugin's folder and
 * its line here removes the feature.
 */
export async function mountPlugins(app: Hono, ctx: PortalContext): Promise<void> {
  app.route('/api/catalog', createCatalogRouter({ catalog: ctx.catalog, auth: ctx.auth }));
}
