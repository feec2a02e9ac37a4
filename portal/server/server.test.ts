import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CatalogClient } from '@backstage/catalog-client';
import { CatalogStore } from '@bank/catalog';
import { component, ORG, writeTree } from '@bank/catalog/testing';
import { CatalogService } from '@bank/plugin-catalog';
import { type RunningServer, startServer } from './server.ts';

const TOKEN = 'test-token-123';

describe('portal server: Backstage catalog API, auth and errors over real HTTP', () => {
  let server: RunningServer;
  let client: CatalogClient;
  let catalog: CatalogService;
  const dir = writeTree({
    'org/catalog-info.yaml': ORG,
    'ledger/catalog-info.yaml': component('ledger', { tier: '1' }),
    'balance/catalog-info.yaml': component('balance', { dependsOn: ['component:ledger'] }),
    'account/catalog-info.yaml': component('account', { owner: 'accounts', dependsOn: ['component:ledger'] }),
    'hostile/catalog-info.yaml': component('hostile').replace(
      'description: The hostile service',
      'description: "<img src=x onerror=alert(1)><script>alert(2)</script>"',
    ),
  });

  before(async () => {
    process.env.PORTAL_API_TOKENS = `other,${TOKEN}`;
    const store = await CatalogStore.open(
      `file:${path.join(mkdtempSync(path.join(tmpdir(), 'srv-')), 'p.db')}`,
    );
    catalog = new CatalogService(store, [dir]);
    await catalog.ingest();
    server = await startServer({ catalog, port: 0, ui: false, devSignIn: true });
    client = new CatalogClient({ discoveryApi: { getBaseUrl: async () => `${server.url}/api/catalog` } });
  });
  after(async () => {
    await server.close();
    await catalog.store.close();
  });

  it('listens on 127.0.0.1 by default', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('serves getEntities with filters and fields to an unmodified CatalogClient', async () => {
    const { items } = await client.getEntities({
      filter: { kind: 'Component' },
      fields: ['metadata.name', 'kind'],
    });
    assert.deepEqual(items.map((e) => e.metadata.name).sort(), ['account', 'balance', 'hostile', 'ledger']);
    assert.deepEqual(Object.keys(items[0]).sort(), ['kind', 'metadata']);
    const owned = await client.getEntities({ filter: { 'relations.ownedBy': 'group:default/accounts' } });
    assert.deepEqual(
      owned.items.map((e) => e.metadata.name),
      ['account'],
    );
    // Sets are ORed: the ledger squad (a Group) matches too.
    const either = await client.getEntities({
      filter: [{ 'metadata.name': 'ledger' }, { 'metadata.name': 'account' }],
    });
    assert.deepEqual(either.items.map((e) => `${e.kind}:${e.metadata.name}`).sort(), [
      'Component:account',
      'Component:ledger',
      'Group:ledger',
    ]);
  });

  it('gets by ref, case-insensitively, and 404s become undefined', async () => {
    const e = await client.getEntityByRef('Component:Default/Balance');
    assert.equal(e?.metadata.name, 'balance');
    assert.ok(
      e?.relations?.some((r) => r.type === 'dependsOn' && r.targetRef === 'component:default/ledger'),
    );
    assert.equal(await client.getEntityByRef('component:default/nope'), undefined);
  });

  it('pages with queryEntities cursors until the end, in order', async () => {
    const seen: string[] = [];
    let page = await client.queryEntities({
      filter: { kind: 'Component' },
      limit: 2,
      orderFields: { field: 'metadata.name', order: 'asc' },
    });
    assert.equal(page.totalItems, 4);
    seen.push(...page.items.map((e) => e.metadata.name));
    while (page.pageInfo.nextCursor) {
      page = await client.queryEntities({ cursor: page.pageInfo.nextCursor, limit: 2 });
      seen.push(...page.items.map((e) => e.metadata.name));
    }
    assert.deepEqual(seen, ['account', 'balance', 'hostile', 'ledger']);
  });

  it('answers getEntitiesByRefs in request order with nulls, and facets with counts', async () => {
    const r = await client.getEntitiesByRefs({
      entityRefs: ['component:default/ledger', 'component:default/missing', 'group:default/ledger'],
    });
    assert.deepEqual(
      r.items.map((e) => e?.kind ?? null),
      ['Component', null, 'Group'],
    );
    const f = await client.getEntityFacets({ facets: ['kind', 'spec.owner'], filter: { kind: 'Component' } });
    assert.deepEqual(f.facets.kind, [{ value: 'Component', count: 4 }]);
    assert.ok(f.facets['spec.owner'].some((x) => x.value === 'ledger' && x.count === 3));
  });

  it('returns hostile text as data: the JSON is escaped by the client, never interpreted', async () => {
    const e = await client.getEntityByRef('component:default/hostile');
    assert.equal(e?.metadata.description, '<img src=x onerror=alert(1)><script>alert(2)</script>');
    const res = await fetch(`${server.url}/api/catalog/entities/by-name/component/default/hostile`);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  });

  it('404s unknown names with the closest matches in the error envelope', async () => {
    const res = await fetch(`${server.url}/api/catalog/entities/by-name/component/default/ledgr`);
    assert.equal(res.status, 404);
    const body = (await res.json()) as {
      error: { name: string; message: string; suggestions: string[] };
      response: { statusCode: number };
    };
    assert.equal(body.error.name, 'NotFoundError');
    assert.equal(body.error.suggestions[0], 'component:default/ledger');
    assert.equal(body.response.statusCode, 404);
  });

  it('rejects bad filters and malformed bodies with 400 and a reason', async () => {
    const res = await fetch(`${server.url}/api/catalog/entities?filter==x`);
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /empty key/);
    const bad = await fetch(`${server.url}/api/catalog/entities/by-refs`, {
      method: 'POST',
      body: '{not json',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(bad.status, 400);
    const big = await fetch(`${server.url}/api/catalog/entities/by-refs`, {
      method: 'POST',
      body: JSON.stringify({ entityRefs: ['x'.repeat(2 * 1024 * 1024)] }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(big.status, 413);
  });

  it('validates entities like ingest does (400 with the reasons, 200 when valid)', async () => {
    const ok = await client.validateEntity(
      {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Component',
        metadata: { name: 'new-svc' },
        spec: { type: 'service', lifecycle: 'production', owner: 'ledger' },
      },
      'url:http://x',
    );
    assert.equal(ok.valid, true);
    const bad = await client.validateEntity(
      {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Component',
        metadata: { name: 'new-svc' },
        spec: { type: 'service', lifecycle: 'production', owner: 'ledgr' },
      },
      'url:http://x',
    );
    assert.equal(bad.valid, false);
    if (!bad.valid)
      assert.match(bad.errors[0].message, /owner "ledgr" does not exist.*group:default\/ledger/);
  });

  it('refuses writes without credentials, accepts a bearer token, and records who wrote', async () => {
    const anon = await fetch(`${server.url}/api/catalog/refresh`, {
      method: 'POST',
      body: '{"entityRef":"component:default/ledger"}',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(anon.status, 401);
    const wrong = await fetch(`${server.url}/api/catalog/refresh`, {
      method: 'POST',
      body: '{"entityRef":"component:default/ledger"}',
      headers: { authorization: 'Bearer nope' },
    });
    assert.equal(wrong.status, 401);
    await new CatalogClient({
      discoveryApi: { getBaseUrl: async () => `${server.url}/api/catalog` },
    }).refreshEntity('component:default/ledger', { token: TOKEN });
    const log = await catalog.store.auditLog(5);
    assert.equal(log[0].action, 'catalog.entity.refresh');
    assert.equal(log[0].actor, 'token:env-2');
  });

  it('accepts a token issued by the portal (hash in the store) and names it in the audit log', async () => {
    const { hashToken } = await import('./auth.ts');
    await catalog.store.addToken({
      id: 'id-1',
      name: 'ci-deployer',
      hash: hashToken('ptl_secret'),
      createdBy: 'cli:test',
      scopes: ['catalog:write'],
    });
    const res = await fetch(`${server.url}/api/catalog/refresh`, {
      method: 'POST',
      body: '{"entityRef":"component:default/ledger"}',
      headers: { authorization: 'Bearer ptl_secret' },
    });
    assert.equal(res.status, 200);
    assert.equal((await catalog.store.auditLog(1))[0].actor, 'token:ci-deployer');
  });

  it('signs a person in as a catalogue User and lets the session write; unknown users get suggestions', async () => {
    const unknown = await fetch(`${server.url}/api/auth/sign-in`, {
      method: 'POST',
      body: '{"user":"jane.do"}',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(unknown.status, 404);
    assert.deepEqual(((await unknown.json()) as { error: { suggestions: string[] } }).error.suggestions, [
      'user:default/jane.doe',
    ]);
    const signIn = await fetch(`${server.url}/api/auth/sign-in`, {
      method: 'POST',
      body: '{"user":"jane.doe"}',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(signIn.status, 200);
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0];
    assert.match(signIn.headers.get('set-cookie') ?? '', /HttpOnly/i);
    const me = (await (await fetch(`${server.url}/api/auth/me`, { headers: { cookie } })).json()) as {
      actor: { id: string };
    };
    assert.equal(me.actor.id, 'user:default/jane.doe');
    // jane.doe is in the ledger squad: she may refresh what ledger owns.
    const refreshLedger = '{"entityRef":"component:default/ledger"}';
    const write = await fetch(`${server.url}/api/catalog/refresh`, {
      method: 'POST',
      body: refreshLedger,
      headers: { cookie, 'content-type': 'application/json' },
    });
    assert.equal(write.status, 200);
    const crossSite = await fetch(`${server.url}/api/catalog/refresh`, {
      method: 'POST',
      body: refreshLedger,
      headers: { cookie, origin: 'https://evil.example', 'content-type': 'application/json' },
    });
    assert.equal(crossSite.status, 403, 'the request guard refuses a cookie write from another site');
    const forged = await fetch(`${server.url}/api/catalog/refresh`, {
      method: 'POST',
      body: refreshLedger,
      headers: { cookie: `${cookie.slice(0, -3)}abc`, 'content-type': 'application/json' },
    });
    assert.equal(forged.status, 401);
  });

  it('registers a location inside the roots (201) and refuses one outside (400)', async () => {
    const token = { token: TOKEN };
    const inside = await client.addLocation(
      { type: 'file', target: path.join(dir, 'ledger', 'catalog-info.yaml') },
      token,
    );
    assert.equal(inside.location.type, 'file');
    assert.ok(inside.entities.some((e) => e.metadata.name === 'ledger'));
    await assert.rejects(client.addLocation({ type: 'file', target: '/etc/passwd' }, token), (err: Error) => {
      assert.match(String((err.cause as Error)?.message), /outside the catalogue's roots/);
      return true;
    });
    const all = await client.getLocations({}, token);
    assert.equal(all.items.length, 1);
  });
});
