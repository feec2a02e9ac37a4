import type { GraphIndex } from '@bank/graph';
import { createApp } from '@bank/plugin-kit';
import type { Hono } from 'hono';
import { estateGraph } from '../lib/estate.ts';
import { orgChart } from '../lib/org.ts';

export interface ExplorerRouterDeps {
  getIndex: () => GraphIndex;
}

/**
 * Mounted at /api/explorer. `GET /estate`: the compact call graph the graph explorer groups and lays out;
 * `GET /org`: the org chart with ownership load, orphans, tier inversions and coupling. Both are computed
 * once per graph index version and cached.
 */
export function createExplorerRouter({ getIndex }: ExplorerRouterDeps): Hono {
  const app = createApp();
  app.get('/estate', (c) => {
    const graph = estateGraph(getIndex());
    c.header('cache-control', 'no-cache');
    c.header('etag', `"estate-${graph.version}"`);
    if (c.req.header('if-none-match') === `"estate-${graph.version}"`) return c.body(null, 304);
    return c.json(graph);
  });
  app.get('/org', (c) => c.json(orgChart(getIndex())));
  return app;
}
