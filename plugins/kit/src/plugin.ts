import type { Hono } from 'hono';

/**
 * What a feature plugin gives the portal. The portal (portal/server) builds the context once and mounts
 * each plugin's router at `/api/<id>`; the CLI lets each plugin add its commands. A plugin never imports
 * the portal: dependencies point portal → plugins → graph → catalog.
 */
export interface PortalPlugin<Ctx> {
  id: string;
  /** Router mounted at /api/<id>. Writes must go through `ctx.requireWriter`. */
  createRouter?: (ctx: Ctx) => Hono;
}
