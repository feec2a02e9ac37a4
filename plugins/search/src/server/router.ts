import type { CatalogService } from '@bank/plugin-catalog';
import { createApp, InputError } from '@bank/plugin-kit';
import type { Hono } from 'hono';
import { rowsOf } from '../lib/rows.ts';
import { search } from '../lib/search.ts';
import { parseTableQuery, tablePage } from '../lib/table.ts';

export interface SearchRouterDeps {
  catalog: CatalogService;
}

/**
 * Mounted at /api/search. `GET /?q=&limit=`: the typeahead over every entity. `GET /catalogue?…`: one page
 * of the catalogue table with facet counts (filters kind, type, owner, collective, system, tier, lifecycle;
 * sort, dir, page, size, q). Both read rows computed once per catalogue view.
 */
export function createSearchRouter({ catalog }: SearchRouterDeps): Hono {
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
  app.get('/catalogue', (c) => {
    const query = parseTableQuery(new URL(c.req.url).searchParams);
    return c.json(tablePage(rowsOf(catalog.loaded), query));
  });
  return app;
}
