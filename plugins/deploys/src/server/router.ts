import {
  type Auth,
  createApp,
  InputError,
  NotFoundError,
  noteAudit,
  permissions,
  readBody,
  readJson,
} from '@bank/plugin-kit';
import type { Hono } from 'hono';
import { deployEventFromGithub, verifyGithubSignature } from '../lib/github.ts';
import type { DeploysService } from '../lib/service.ts';

/** The largest deploy event accepted; a real one is well under 2 KiB. */
export const DEPLOY_BODY_LIMIT = 64 * 1024;

/**
 * `/api/deploys`: POST an event (bearer token or signed-in person), GET the list, one service's state per
 * environment, the configured environments and the change timeline.
 */
/** GitHub's deployment deliveries carry the whole repository object: more room than our own events. */
export const GITHUB_BODY_LIMIT = 512 * 1024;

export function createDeploysRouter(deps: {
  deploys: DeploysService;
  auth: Auth;
  /** The GitHub webhook's secret; default PORTAL_GITHUB_WEBHOOK_SECRET. Without one the receiver is off. */
  githubSecret?: string;
}): Hono {
  const app = createApp();
  const query = (c: { req: { query(): Record<string, string> } }) => c.req.query();

  // Recording a deploy is for the service's owners (team or collective), admins, or a deploys:write token.
  app.post('/', async (c) => {
    await deps.auth.authenticate(c, permissions.deploysWrite);
    const body = await readJson<{ service?: unknown }>(c, DEPLOY_BODY_LIMIT);
    if (typeof body !== 'object' || body === null || typeof body.service !== 'string')
      throw new InputError('service: required, the name or ref of the service deployed');
    const ref = deps.deploys.resolveService(body.service);
    noteAudit(c, { action: 'deploys.record', target: ref });
    const actor = await deps.auth.authorize(c, permissions.deploysWrite, { ref });
    const result = await deps.deploys.record(body, actor.id, 'api', { audited: true });
    noteAudit(c, { details: { outcome: result.outcome, id: result.deploy.id } });
    return c.json(result, result.outcome === 'created' ? 201 : 200);
  });
  // GitHub `deployment` / `deployment_status` webhook: the signature is the credential (no bearer token).
  app.post('/github', async (c) => {
    // Audited like every write, allowed or refused (a bad signature is a 401 row).
    noteAudit(c, { action: 'deploys.record.github' });
    const secret = deps.githubSecret ?? process.env.PORTAL_GITHUB_WEBHOOK_SECRET;
    if (!secret)
      throw new NotFoundError(
        'The GitHub webhook receiver is off: set PORTAL_GITHUB_WEBHOOK_SECRET to the secret of the webhook',
      );
    const raw = await readBody(c, GITHUB_BODY_LIMIT);
    verifyGithubSignature(raw, c.req.header('x-hub-signature-256'), secret);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      throw new InputError(
        `The delivery is not JSON (set the webhook's content type to application/json): ${(err as Error).message}`,
      );
    }
    const event = deployEventFromGithub(c.req.header('x-github-event'), body, deps.deploys.environments);
    if (!event) return c.json({ outcome: 'ignored' }, 202);
    const repo = typeof event.repository === 'string' ? event.repository : 'unknown';
    c.set('actor', { kind: 'token', id: `github:${repo}` });
    const result = await deps.deploys.record(event, `github:${repo}`, 'github', { audited: true });
    noteAudit(c, {
      target: result.deploy.service,
      details: { outcome: result.outcome, id: result.deploy.id },
    });
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
  // ?service=card-api&service=feed or ?service=card-api,feed: who to call now for each.
  app.get('/oncall', async (c) => {
    const services = (c.req.queries('service') ?? []).flatMap((s) => s.split(',')).filter(Boolean);
    if (services.length === 0) throw new InputError('oncall: give at least one ?service=');
    if (services.length > 100) throw new InputError('oncall: at most 100 services per request');
    return c.json({ oncall: await deps.deploys.onCallFor(services) });
  });
  app.get('/skew', async (c) => c.json(await deps.deploys.skew(Number(c.req.query('days') ?? 30))));
  app.get('/compare', async (c) => c.json(await deps.deploys.compare(c.req.query('service') ?? '')));
  app.get('/live', (c) => c.json(deps.deploys.live(c.req.query('service') ?? '')));
  app.get('/changes', async (c) => c.json(await deps.deploys.changes(query(c))));
  return app;
}
