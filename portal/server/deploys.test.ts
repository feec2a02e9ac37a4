import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { component, ORG, writeTree } from '@bank/catalog/testing';
import { CatalogService } from '@bank/plugin-catalog';
import { type RunningServer, startServer } from './server.ts';

const TOKEN = 'deploy-token-7';

/** POST /api/deploys through the real portal server: real auth, real SQLite, real HTTP on 127.0.0.1. */
describe('POST /api/deploys over real HTTP', () => {
  let server: RunningServer;
  let catalog: CatalogService;
  const dir = writeTree({
    'org/catalog-info.yaml': ORG,
    'ledger/catalog-info.yaml': component('ledger', { tier: '1' }),
    'card-api/catalog-info.yaml': component('card-api', { dependsOn: ['component:ledger'] }),
  });
  const now = Date.now();
  const ev = (over: Record<string, unknown> = {}) => ({
    id: 'gha-100',
    service: 'card-api',
    environment: 'prod',
    version: '2.0.0',
    image: 'registry.bank.example/card-api@sha256:1111',
    commit: 'abc1234',
    actor: 'jane.doe',
    status: 'succeeded',
    startedAt: new Date(now - 600_000).toISOString(),
    finishedAt: new Date(now - 300_000).toISOString(),
    ...over,
  });
  const post = async (
    body: unknown,
    headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` },
  ) => {
    const res = await fetch(`${server.url}/api/deploys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  const get = async (p: string) => {
    const res = await fetch(`${server.url}${p}`);
    return { status: res.status, body: await res.json() };
  };

  before(async () => {
    process.env.PORTAL_API_TOKENS = `${TOKEN},catalog-only-token@catalog:write`;
    const store = await CatalogStore.open(
      `file:${path.join(mkdtempSync(path.join(tmpdir(), 'dep-')), 'p.db')}`,
    );
    catalog = new CatalogService(store, [dir]);
    await catalog.ingest();
    server = await startServer({ catalog, port: 0, ui: false });
  });
  after(async () => {
    await server.close();
    await catalog.store.close();
  });

  it('without a token: 401 saying how to authenticate, nothing stored', async () => {
    const r = await post(ev(), {});
    assert.equal(r.status, 401);
    assert.match(r.body.error.message, /Authorization: Bearer <token>/);
    const bad = await post(ev(), { authorization: 'Bearer nope' });
    assert.equal(bad.status, 401);
    assert.equal((await get('/api/deploys')).body.deploys.length, 0);
  });

  it('a token without the deploys:write scope: 403 naming the permission, nothing stored', async () => {
    const r = await post(ev({ id: 'gha-scope' }), { authorization: 'Bearer catalog-only-token' });
    assert.equal(r.status, 403);
    assert.match(r.body.error.message, /deploys\.write|deploys:write/);
    assert.equal((await get('/api/deploys')).body.deploys.length, 0);
  });

  it('with a token: 201, then a replay is 200 with the same deploy, stored once', async () => {
    const first = await post(ev({ pipeline: 'release.yml' }));
    assert.equal(first.status, 201);
    assert.equal(first.body.outcome, 'created');
    assert.equal(first.body.deploy.service, 'component:default/card-api');
    assert.equal(first.body.deploy.recordedBy, 'token:env-1');
    assert.deepEqual(first.body.deploy.labels, { pipeline: 'release.yml' });
    const again = await post(ev({ pipeline: 'release.yml' }));
    assert.equal(again.status, 200);
    assert.equal(again.body.outcome, 'replayed');
    assert.deepEqual(again.body.deploy, first.body.deploy);
    const list = await get('/api/deploys?service=card-api');
    assert.deepEqual(
      list.body.deploys.map((d: { id: string }) => d.id),
      ['gha-100'],
    );
  });

  it('unknown service: 404 with the closest names; unknown environment: 400 listing the configured ones', async () => {
    const svc = await post(ev({ id: 'gha-101', service: 'card-apj' }));
    assert.equal(svc.status, 404);
    assert.deepEqual(svc.body.error.suggestions, ['component:default/card-api']);
    const env = await post(ev({ id: 'gha-102', environment: 'production' }));
    assert.equal(env.status, 400);
    assert.match(env.body.error.message, /configured: staging, prod/);
    assert.deepEqual(env.body.error.environments, ['staging', 'prod']);
  });

  it('finished before started and a time in the future: 400 saying which field and why', async () => {
    const r = await post(ev({ id: 'gha-103', finishedAt: new Date(now - 3_600_000).toISOString() }));
    assert.equal(r.status, 400);
    assert.match(r.body.error.message, /finishedAt .* is before startedAt/);
    const f = await post(
      ev({
        id: 'gha-104',
        startedAt: new Date(now + 3_600_000).toISOString(),
        finishedAt: undefined,
        status: 'started',
      }),
    );
    assert.equal(f.status, 400);
    assert.match(f.body.error.message, /startedAt .* is in the future .* allowed clock skew 300 s/);
    const notJson = await post('{"id": ');
    assert.equal(notJson.status, 400);
    assert.match(notJson.body.error.message, /not valid JSON/);
  });

  it('a payload over the limit: 413, nothing stored', async () => {
    const big = ev({ id: 'gha-105', notes: 'x'.repeat(70 * 1024) });
    const r = await post(big);
    assert.equal(r.status, 413);
    assert.match(r.body.error.message, /limit/);
    // Sent chunked, without a content-length: still refused.
    const status = await new Promise<number>((resolve, reject) => {
      const u = new URL(`${server.url}/api/deploys`);
      const req = http.request(
        {
          host: u.hostname,
          port: u.port,
          path: u.pathname,
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.write(JSON.stringify(big).slice(0, 40 * 1024));
      req.end(JSON.stringify(big).slice(40 * 1024));
    });
    assert.equal(status, 413);
    assert.equal((await get('/api/deploys?service=card-api')).body.deploys.length, 1);
  });

  it('a body that does not end is refused with 413 once past the limit, without reading it to its end', async () => {
    const u = new URL(`${server.url}/api/deploys`);
    let sent = 0;
    const answer = await new Promise<{ status: number; sentBefore: number }>((resolve, reject) => {
      const req = http.request(
        {
          host: u.hostname,
          port: u.port,
          path: u.pathname,
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        },
        (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0, sentBefore: sent });
          req.destroy();
        },
      );
      // The server may close the connection while we are still sending: that is the point.
      req.on('error', (err) => (sent >= 256 * 1024 * 1024 ? reject(err) : undefined));
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      req.write('{"id":"gha-endless","service":"card-api","notes":"');
      const pump = () => {
        while (sent < 256 * 1024 * 1024 && !req.destroyed) {
          sent += chunk.length;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        if (!req.destroyed) req.end();
      };
      pump();
    });
    assert.equal(answer.status, 413);
    assert.ok(answer.sentBefore < 32 * 1024 * 1024, `answered only after ${answer.sentBefore} bytes`);
    assert.equal((await get('/api/deploys?service=card-api')).body.deploys.length, 1);
  });

  it('GET /state, /environments and /changes answer from the same store at once', async () => {
    const state = await get('/api/deploys/state?service=card-api');
    assert.equal(state.status, 200);
    const prod = state.body.environments.find((e: { environment: string }) => e.environment === 'prod');
    assert.equal(prod.running.version, '2.0.0');
    assert.equal(prod.running.actor, 'jane.doe');
    const envs = await get('/api/deploys/environments');
    assert.deepEqual(envs.body.environments, [
      { name: 'staging', rank: 0 },
      { name: 'prod', rank: 1 },
    ]);
    const changes = await get('/api/deploys/changes?from=card-api&to=ledger&since=2h');
    assert.equal(changes.status, 200);
    assert.deepEqual(
      changes.body.services.map((s: { name: string; changed: boolean }) => [s.name, s.changed]),
      [
        ['card-api', true],
        ['ledger', false],
      ],
    );
    const unknown = await get('/api/deploys/changes?from=card-api&to=ledgr');
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.body.error.suggestions, ['component:default/ledger']);
  });

  it('the catalogue table (GET /api/search/catalogue) shows the deployed version and filters on changed', async () => {
    const all = await get('/api/search/catalogue?kind=component');
    assert.equal(all.status, 200);
    const byName = Object.fromEntries(
      all.body.rows.map((r: { name: string; deploy: unknown }) => [r.name, r.deploy]),
    );
    assert.deepEqual(
      [
        byName['card-api'].deployed.environment,
        byName['card-api'].deployed.version,
        byName['card-api'].changed,
      ],
      ['prod', '2.0.0', true],
    );
    assert.deepEqual([byName.ledger.deployed, byName.ledger.changed], [null, false]);
    const changed = await get('/api/search/catalogue?changed=24h');
    assert.deepEqual(
      changed.body.rows.map((r: { name: string }) => r.name),
      ['card-api'],
    );
    assert.equal(changed.body.total, 1);
    assert.equal((await get('/api/search/catalogue?changed=24h&changedEnv=staging')).body.total, 0);
    const badEnv = await get('/api/search/catalogue?changed=24h&changedEnv=qa');
    assert.equal(badEnv.status, 400);
    assert.match(
      badEnv.body.error.message,
      /changedEnv "qa" is not a configured environment; configured: staging, prod/,
    );
    const badSince = await get('/api/search/catalogue?changed=lately');
    assert.equal(badSince.status, 400);
    assert.match(badSince.body.error.message, /changed "lately" must be a duration/);
  });

  it('GET /api/deploys/skew: services behind or stale in prod; a bad day count is 400', async () => {
    const r = await get('/api/deploys/skew?days=30');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.environments, ['staging', 'prod']);
    assert.ok(Array.isArray(r.body.services));
    const bad = await get('/api/deploys/skew?days=soon');
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /days: a positive number/);
  });
});
