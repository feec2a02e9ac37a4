import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { component, ORG, writeTree } from '@bank/catalog/testing';
import { CatalogService } from '@bank/plugin-catalog';
import { isLoopback, type RunningServer, startServer } from './server.ts';

const TOKEN = 'reads-token-1';

describe('reads beyond loopback need a signed-in person or a token (issue 11: reads open on every interface)', () => {
  let wide: RunningServer;
  let local: RunningServer;
  let catalog: CatalogService;
  let base: string;
  const dir = writeTree({
    'org/catalog-info.yaml': ORG,
    'ledger/catalog-info.yaml': component('ledger', { tier: '1' }),
  });

  before(async () => {
    process.env.PORTAL_API_TOKENS = TOKEN;
    const store = await CatalogStore.open(
      `file:${path.join(mkdtempSync(path.join(tmpdir(), 'reads-')), 'p.db')}`,
    );
    catalog = new CatalogService(store, [dir]);
    await catalog.ingest();
    wide = await startServer({
      catalog,
      host: '0.0.0.0',
      port: 0,
      ui: false,
      baseUrl: 'https://portal.bank.example',
    });
    // Called on 127.0.0.1: the server is still reachable from elsewhere, so the caller must be known.
    base = `http://127.0.0.1:${new URL(wide.url).port}`;
    local = await startServer({ catalog, port: 0, ui: false });
  });
  after(async () => {
    delete process.env.PORTAL_API_TOKENS;
    await wide.close();
    await local.close();
    await catalog.store.close();
  });

  const readPaths = [
    '/api/catalog/entities',
    '/api/catalog/entities/by-name/component/default/ledger',
    '/api/graph/export?format=json',
    '/api/graph/ownership',
    '/api/search/catalogue',
    '/',
  ];

  it('answers 401 without credentials on every read: catalogue, people, org chart, graph export, the plain page', async () => {
    for (const p of readPaths) {
      const res = await fetch(`${base}${p}`);
      assert.equal(res.status, 401, p);
      const body = (await res.json()) as { error: { message: string } };
      assert.match(body.error.message, /listens beyond loopback \(0\.0\.0\.0\).*Bearer/, p);
      assert.doesNotMatch(body.error.message, /ledger/, `${p} leaks nothing`);
    }
    const byRefs = await fetch(`${base}/api/catalog/entities/by-refs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"entityRefs":["component:default/ledger"]}',
    });
    assert.equal(byRefs.status, 401, 'a read over POST too');
  });

  it('answers with a bearer token', async () => {
    for (const p of readPaths) {
      const res = await fetch(`${base}${p}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(res.status, 200, p);
    }
    const wrong = await fetch(`${base}/api/catalog/entities`, { headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 401);
  });

  it('keeps the probes and the sign-in routes open (how a caller becomes known)', async () => {
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const me = await fetch(`${base}/api/auth/me`);
    assert.equal(me.status, 200);
    assert.deepEqual(((await me.json()) as { signedIn: boolean }).signedIn, false);
  });

  it('keeps reads open without credentials when bound to loopback only', async () => {
    for (const p of readPaths) assert.equal((await fetch(`${local.url}${p}`)).status, 200, p);
  });

  it('counts only loopback addresses as loopback', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1']) assert.ok(isLoopback(h), h);
    for (const h of ['0.0.0.0', '::', '10.0.0.5', '127.0.0.1.nip.io', 'portal.bank.example'])
      assert.ok(!isLoopback(h), h);
  });
});
