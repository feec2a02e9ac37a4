/**
 * /api/scaffolder through the real portal server (its auth, its plugin registry, its graph service) on
 * 127.0.0.1, over a temporary copy of the monorepo: templates, dry-run, auth on create, task progress
 * over SSE and polling, the new service in the catalogue and graph within seconds, errors by field.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { CatalogService } from '@bank/plugin-catalog';
import { type FixtureRepo, makeFixtureRepo } from '@bank/plugin-scaffolder/testing';
import { type RunningServer, startServer } from './server.ts';

const TOKEN = 'scaffolder-test-token';

describe('/api/scaffolder on the real portal server', () => {
  let repo: FixtureRepo;
  let store: CatalogStore;
  let server: RunningServer;
  let base = '';
  const savedTokens = process.env.PORTAL_API_TOKENS;

  const api = (p: string, init: RequestInit = {}) => fetch(`${base}/api/scaffolder${p}`, init);
  const post = (p: string, body: unknown, headers: Record<string, string> = {}) =>
    api(p, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const auth = { authorization: `Bearer ${TOKEN}` };

  before(async () => {
    process.env.PORTAL_API_TOKENS = TOKEN;
    repo = makeFixtureRepo({ git: true });
    store = await CatalogStore.open(`file:${path.join(repo.root, '.portal.db')}`);
    const catalog = new CatalogService(store, [path.join(repo.root, 'services')]);
    await catalog.ingest();
    server = await startServer({ catalog, host: '127.0.0.1', port: 0, ui: false, devSignIn: true });
    base = server.url;
  });

  after(async () => {
    await server?.close();
    await store?.close();
    repo?.cleanup();
    if (savedTokens === undefined) delete process.env.PORTAL_API_TOKENS;
    else process.env.PORTAL_API_TOKENS = savedTokens;
  });

  it('lists templates with their parameters and ui: hints', async () => {
    const body = (await (await api('/templates')).json()) as {
      items: {
        name: string;
        version: string;
        parameters: { properties: Record<string, Record<string, unknown>> }[];
      }[];
    };
    assert.deepEqual(
      body.items.map((t) => t.name),
      ['event-consumer', 'typescript-service'],
    );
    const ts = body.items.find((t) => t.name === 'typescript-service');
    assert.equal(ts?.parameters[0].properties.owner['ui:field'], 'OwnerPicker');
    assert.equal(ts?.parameters[1].properties.dependsOn['ui:field'], 'MultiEntityPicker');
    const missing = await api('/templates/typescript-servic');
    assert.equal(missing.status, 404);
    assert.match(
      ((await missing.json()) as { error: { message: string } }).error.message,
      /known: event-consumer, typescript-service/,
    );
    assert.equal((await api('/templates/..%2F..%2Fetc')).status, 400);
  });

  it('dry-run returns files, contents, manifests and the catalogue diff, and writes nothing', async () => {
    const res = await post('/dry-run', {
      template: 'typescript-service',
      values: { name: 'web-made', description: 'Made over HTTP', owner: 'ledger', dependsOn: ['ledger'] },
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      dir: string;
      files: string[];
      preview: { path: string; content?: string }[];
      manifests: { errors: string[] }[];
      catalogDiff: { added: { ref: string }[] };
    };
    assert.equal(body.dir, 'services/web-made');
    assert.ok(body.preview.find((f) => f.path === 'catalog-info.yaml')?.content?.includes('name: web-made'));
    assert.equal(body.manifests.length, 7);
    assert.ok(body.manifests.every((m) => m.errors.length === 0));
    assert.deepEqual(
      body.catalogDiff.added.map((a) => a.ref),
      ['component:default/web-made', 'api:default/web-made-rpc'],
    );
    assert.equal(existsSync(path.join(repo.root, 'services', 'web-made')), false);
  });

  it('refuses to create without an authenticated writer, and answers bad parameters by field', async () => {
    const values = {
      name: 'web-made',
      description: 'Made over HTTP',
      owner: 'ledger',
      dependsOn: ['ledger'],
    };
    assert.equal((await post('/tasks', { template: 'typescript-service', values })).status, 401);
    assert.equal(
      (await post('/tasks', { template: 'typescript-service', values }, { authorization: 'Bearer wrong' }))
        .status,
      401,
    );
    const bad = await post(
      '/tasks',
      { template: 'typescript-service', values: { ...values, owner: 'ledgr', dependsOn: ['legder'] } },
      auth,
    );
    assert.equal(bad.status, 400);
    const err = ((await bad.json()) as { error: { problems: { field: string; suggestions?: string[] }[] } })
      .error;
    assert.deepEqual(
      err.problems.map((p) => p.field),
      ['owner', 'dependsOn[0]'],
    );
    assert.deepEqual(err.problems[0].suggestions, ['group:default/ledger']);
    const taken = await post(
      '/tasks',
      { template: 'typescript-service', values: { ...values, name: 'ledger' } },
      auth,
    );
    assert.equal(taken.status, 409);
    assert.equal(existsSync(path.join(repo.root, 'services', 'web-made')), false);
  });

  it('creates through a task, streams step progress, and the service is in the catalogue and graph as soon as the task completes', async () => {
    const created = await post(
      '/tasks',
      {
        template: 'template:default/typescript-service',
        values: {
          name: 'web-made',
          description: 'Made over HTTP',
          owner: 'ledger',
          dependsOn: ['ledger', 'accounts'],
        },
      },
      auth,
    );
    assert.equal(created.status, 201);
    const { id } = (await created.json()) as { id: string };
    // Server-sent events, replayed from the start and followed to completion.
    const stream = await api(`/tasks/${id}/events`, { headers: { accept: 'text/event-stream', ...auth } });
    assert.match(stream.headers.get('content-type') ?? '', /text\/event-stream/);
    const text = await stream.text();
    const events = text
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)) as { type: string; stepId?: string; status?: string });
    const completed = events
      .filter((e) => e.type === 'step' && e.status === 'completed')
      .map((e) => e.stepId);
    assert.deepEqual(completed, ['peers', 'fetch', 'manifests', 'publish', 'register']);
    assert.deepEqual(events.at(-1), { ...events.at(-1), type: 'completion', status: 'completed' });
    const task = (await (await api(`/tasks/${id}`, { headers: auth })).json()) as {
      status: string;
      createdBy: string;
      result: { entityRef: string; dir: string; branch: string };
    };
    assert.equal(task.status, 'completed');
    assert.equal(task.createdBy, 'token:env-1');
    assert.equal(task.result.entityRef, 'component:default/web-made');
    // Visible at once: the catalogue API and the graph.
    const entity = await fetch(`${base}/api/catalog/entities/by-name/component/default/web-made`);
    assert.equal(entity.status, 200);
    const e = (await entity.json()) as { relations: { type: string; targetRef: string }[] };
    assert.ok(
      e.relations.some((r) => r.type === 'dependsOn' && r.targetRef === 'component:default/accounts'),
    );
    const around = await fetch(`${base}/api/graph/neighbourhood?ref=web-made&depth=1&direction=down`);
    assert.equal(around.status, 200);
    assert.match(await around.text(), /component:default\/accounts/);
    // Polling works too, from an event id.
    const polled = (await (await api(`/tasks/${id}/events?after=2`, { headers: auth })).json()) as {
      status: string;
      events: { id: number }[];
    };
    assert.equal(polled.status, 'completed');
    assert.ok(polled.events.every((ev) => ev.id > 2));
    const audit = await store.auditLog(5);
    assert.ok(
      audit.some(
        (a) =>
          a.action === 'scaffolder.create' &&
          a.actor === 'token:env-1' &&
          a.target === 'component:default/web-made',
      ),
    );
  });

  const signIn = async (user: string) => {
    const res = await fetch(`${base}/api/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user }),
    });
    return (res.headers.get('set-cookie') ?? '').split(';')[0];
  };

  it("a member of one squad cannot scaffold a service owned by another squad (issue 11's reproduction): 403 naming the permission, no task, no files", async () => {
    // sam.lee is in card-processing (Payments); ledger is a Core Banking squad.
    const sam = await signIn('sam.lee');
    const values = {
      name: 'web-not-mine',
      description: 'Not mine',
      owner: 'ledger',
      topic: 'ledger-entries',
    };
    const refused = await post(
      '/tasks',
      { template: 'event-consumer', values },
      { cookie: sam, origin: base },
    );
    assert.equal(refused.status, 403);
    assert.match(
      ((await refused.json()) as { error: { message: string } }).error.message,
      /Permission "scaffolder.task.create" denied: .*member of the owning team or its collective.*group:default\/ledger/,
    );
    assert.equal(existsSync(path.join(repo.root, 'services', 'web-not-mine')), false, 'nothing written');
    const tasks = (await (await api('/tasks', { headers: auth })).json()) as {
      items: { parameters: Record<string, unknown> }[];
    };
    assert.ok(!tasks.items.some((t) => t.parameters.name === 'web-not-mine'), 'no task was started');
  });

  it('a signed-in person can create too; the task records who, and only they and admins read it', async () => {
    const cookie = await signIn('jane.doe');
    const created = await post(
      '/tasks',
      {
        template: 'event-consumer',
        values: { name: 'web-events', description: 'Events', owner: 'ledger', topic: 'ledger-entries' },
      },
      { cookie, origin: base },
    );
    assert.equal(created.status, 201);
    const { id } = (await created.json()) as { id: string };
    let task: { status: string; createdBy: string } = { status: 'processing', createdBy: '' };
    for (let i = 0; i < 100 && task.status === 'processing'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      task = (await (await api(`/tasks/${id}`, { headers: { cookie } })).json()) as typeof task;
    }
    assert.equal(task.status, 'completed');
    assert.equal(task.createdBy, 'user:default/jane.doe');
    // Permission scaffolder.task.read: the creator and admins (the env token has every scope).
    assert.equal((await api(`/tasks/${id}`)).status, 401, 'nobody signed in');
    const sam = await signIn('sam.lee');
    const other = await api(`/tasks/${id}`, { headers: { cookie: sam } });
    assert.equal(other.status, 403);
    assert.match(
      ((await other.json()) as { error: { message: string } }).error.message,
      /Permission "scaffolder.task.read" denied: user:default\/sam.lee may read only the tasks it started/,
    );
    assert.equal((await api(`/tasks/${id}/events`, { headers: { cookie: sam } })).status, 403);
    assert.equal((await api(`/tasks/${id}`, { headers: auth })).status, 200);
    // Lists: a person sees their own tasks, an admin every task; asking for someone else's is refused.
    type List = {
      items: { id: string; createdBy: string; parameters: Record<string, unknown> }[];
      totalTasks: number;
    };
    const mine = (await (await api('/tasks', { headers: { cookie } })).json()) as List;
    assert.deepEqual([...new Set(mine.items.map((t) => t.createdBy))], ['user:default/jane.doe']);
    assert.equal(mine.items[0].id, id);
    assert.equal(mine.items[0].parameters.topic, 'ledger-entries', 'parameters are kept');
    assert.deepEqual((await (await api('/tasks', { headers: { cookie: sam } })).json()) as List, {
      items: [],
      totalTasks: 0,
    });
    assert.equal(
      (await api('/tasks?createdBy=user:default/jane.doe', { headers: { cookie: sam } })).status,
      403,
    );
    const all = (await (await api('/tasks', { headers: auth })).json()) as List;
    assert.ok(all.items.some((t) => t.createdBy === 'token:env-1'));
    assert.ok(all.items.some((t) => t.id === id));
    assert.equal(all.totalTasks, all.items.length);
    const janes = (await (
      await api('/tasks?createdBy=user:default/jane.doe&status=completed', { headers: auth })
    ).json()) as List;
    assert.deepEqual(
      janes.items.map((t) => t.id),
      [id],
    );
    assert.equal((await api('/tasks?status=done', { headers: auth })).status, 400);
  });
});
