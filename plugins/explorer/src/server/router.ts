import type { GraphIndex } from '@bank/graph';
import { createApp } from '@bank/plugin-kit';
import type { Context, Hono } from 'hono';
import { type CachedBody, cachedBody } from '../lib/cached-json.ts';
import { estateGraph } from '../lib/estate.ts';
import { orgChart } from '../lib/org.ts';

export interface ExplorerRouterDeps {
  getIndex: () => GraphIndex;
}

/**
 * Mounted at /api/explorer. `GET /estate`: the compact call graph the graph explorer groups and lays out;
 * `GET /org`: the org chart with ownership load, orphans, tier inversions and coupling. Both are computed,
 * serialised and gzipped once per graph index version (the estate is megabytes at 3,500 services), with
 * an ETag so a browser that has it gets a 304.
 */
export function createExplorerRouter({ getIndex }: ExplorerRouterDeps): Hono {
  const app = createApp();
  const estates = new WeakMap<GraphIndex, CachedBody>();
  const orgs = new WeakMap<GraphIndex, CachedBody>();

  const send = (c: Context, body: CachedBody) => {
    c.header('cache-control', 'no-cache');
    c.header('etag', body.etag);
    c.header('vary', 'accept-encoding');
    if (c.req.header('if-none-match') === body.etag) return c.body(null, 304);
    c.header('content-type', 'application/json; charset=utf-8');
    if (/\bgzip\b/.test(c.req.header('accept-encoding') ?? '')) {
      c.header('content-encoding', 'gzip');
      return c.body(new Uint8Array(body.gzip));
    }
    return c.body(body.json);
  };

  app.get('/estate', (c) => {
    const index = getIndex();
    return send(
      c,
      cachedBody(estates, index, index.version, 'estate', () => estateGraph(index)),
    );
  });
  app.get('/org', (c) => {
    const index = getIndex();
    return send(
      c,
      cachedBody(orgs, index, index.version, 'org', () => orgChart(index)),
    );
  });
  return app;
}
