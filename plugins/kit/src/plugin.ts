import type { Hono } from 'hono';

/**
 * What a feature plugin gives the portal. The portal (portal/server) builds the context once and mounts
 * each plugin's router at `/api/<id>`; the CLI lets each plugin add its commands. A plugin never imports
 * the portal: dependencies point portal → plugins → graph → catalog.
 */
export interface PortalPlugin<Ctx> {
  id: string;
  /** Router mounted at /api/<id>. Every write route asks `auth.authorize(c, permissions.x, resource?)` first. */
  createRouter?: (ctx: Ctx) => Hono;
}
