import type { CatalogService } from '@bank/plugin-catalog';
import { createApp, InputError } from '@bank/plugin-kit';
import type { Hono } from 'hono';
import { type LevelColumnSource, type RowDeploy, rowsOf, withLevels } from '../lib/rows.ts';
import { search } from '../lib/search.ts';
import { parseTableQuery, tablePage } from '../lib/table.ts';

/**
 * Deploy state for the table's deploy column and "changed in the last …" filter. The deploys plugin
 * (DeploysService) answers it; the portal wires it in, so search does not depend on deploys.
 */
export interface DeployColumnSource {
  /** Per service ref of a page: what runs and whether it changed in the last 24 h (one batch query). */
  catalogueColumn(refs: string[]): Promise<Map<string, RowDeploy>>;
  /** Refs with a deploy started since `since` (30m, 24h, 7d, ISO 8601), optionally to one environment. */
  changedServices(since: string, environment?: string): Promise<Set<string>>;
}

export interface SearchRouterDeps {
  catalog: CatalogService;
  deploys?: DeployColumnSource;
  /** Scorecard levels: the level column and filter (`level=gold,none`). */
  levels?: LevelColumnSource;
}

/**
 * Mounted at /api/search. `GET /?q=&limit=`: the typeahead over every entity. `GET /catalogue?…`: one page
 * of the catalogue table with facet counts (filters kind, type, owner, collective, system, tier, lifecycle;
 * sort, dir, page, size, q). Both read rows computed once per catalogue view.
 */
export function createSearchRouter({ catalog, deploys, levels }: SearchRouterDeps): Hono {
  const app = createApp();
  app.get('/', (c) => {
    const raw = c.req.query('limit');
    if (raw !== undefined && (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 50)) {
      throw new InputError(`limit must be an integer from 1 to 50 (got ${JSON.stringify(raw)})`, {
        field: 'limit',
      });
    }
    return c.json(
      search(rowsOf(catalog.loaded), c.req.query('q') ?? '', raw === undefined ? 10 : Number(raw)),
    );
  });
  app.get('/catalogue', async (c) => {
    const query = parseTableQuery(new URL(c.req.url).searchParams);
    if (query.filters.level && !levels)
      throw new InputError('level: this portal keeps no scorecards to filter by', { field: 'level' });
    let rows = levels ? withLevels(rowsOf(catalog.loaded), levels) : rowsOf(catalog.loaded);
    if (query.changed) {
      if (!deploys) throw new InputError('changed: this portal keeps no deploy state to filter by');
      const changed = await deploys.changedServices(query.changed, query.changedEnv);
      rows = rows.filter((r) => changed.has(r.ref));
    } else if (query.changedEnv) {
      throw new InputError('changedEnv: only with changed (e.g. changed=24h&changedEnv=prod)', {
        field: 'changedEnv',
      });
    }
    const page = tablePage(rows, query);
    if (!deploys) return c.json(page);
    // The cached rows are shared across requests: the page gets copies with their deploy column.
    const column = await deploys.catalogueColumn(page.rows.map((r) => r.ref));
    return c.json({ ...page, rows: page.rows.map((r) => ({ ...r, deploy: column.get(r.ref) ?? null })) });
  });
  return app;
}
