import { type Auth, createApp, readJson } from '@bank/plugin-kit';
import type { Hono } from 'hono';
import type { DeploysService } from '../lib/service.ts';

/** The largest deploy event accepted; a real one is well under 2 KiB. */
export const DEPLOY_BODY_LIMIT = 64 * 1024;

/**
 * `/api/deploys`: POST an event (bearer token or signed-in person), GET the list, one service's state per
 * environment, the configured environments and the change timeline.
 */
export function createDeploysRouter(deps: { deploys: DeploysService; auth: Auth }): Hono {
  const app = createApp();
  const query = (c: { req: { query(): Record<string, string> } }) => c.req.query();

  app.post('/', async (c) => {
    const actor = await deps.auth.requireWriter(c);
    const body = await readJson(c, DEPLOY_BODY_LIMIT);
    const result = await deps.deploys.record(body, actor.id, 'api');
    return c.json(result, result.outcome === 'created' ? 201 : 200);
  });
  app.get('/', async (c) => c.json(await deps.deploys.list(query(c))));
  app.get('/environments', (c) =>
    c.json({ environments: deps.deploys.environments.map((name, rank) => ({ name, rank })) }),
  );
  app.get('/state', async (c) => {
    const service = c.req.query('service') ?? '';
    return c.json(await deps.deploys.state(service));
  });
  app.get('/changes', async (c) => c.json(await deps.deploys.changes(query(c))));
  return app;
}
