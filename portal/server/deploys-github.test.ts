import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { component, ORG, writeTree } from '@bank/catalog/testing';
import { CatalogService } from '@bank/plugin-catalog';
import { type RunningServer, startServer } from './server.ts';

const SECRET = 'gh-webhook-secret-for-tests';

/** A delivery in GitHub's format (fields as GitHub's docs for the deployment_status webhook show them). */
function deliveryOf(state: string, over: { id?: number; environment?: string; repo?: string } = {}) {
  const now = Date.now();
  const deployment = {
    url: 'https://api.github.com/repos/bank/card-api/deployments/1234567',
    id: over.id ?? 1234567,
    node_id: 'DE_kwDOAbc123',
    task: 'deploy',
    original_environment: over.environment ?? 'production',
    environment: over.environment ?? 'production',
    description: 'Deploy request from release.yml',
    created_at: new Date(now - 300_000).toISOString().replace(/\.\d+Z$/, 'Z'),
    updated_at: new Date(now - 60_000).toISOString().replace(/\.\d+Z$/, 'Z'),
    statuses_url: 'https://api.github.com/repos/bank/card-api/deployments/1234567/statuses',
    repository_url: 'https://api.github.com/repos/bank/card-api',
    creator: { login: 'jane-doe', id: 101, type: 'User' },
    sha: '7638417db6d59f3c431d3e1f261cc637155684cd',
    ref: 'v2.3.0',
    payload: { image: 'registry.bank.internal/card-api@sha256:4f1e' },
    transient_environment: false,
    production_environment: true,
  };
  return {
    action: 'created',
    deployment_status: {
      url: `${deployment.url}/statuses/42`,
      id: 42,
      state,
      creator: { login: 'github-actions[bot]', id: 41898282, type: 'Bot' },
      description: '',
      environment: deployment.environment,
      target_url: 'https://github.com/bank/card-api/actions/runs/1',
      created_at: new Date(now - 30_000).toISOString().replace(/\.\d+Z$/, 'Z'),
      updated_at: new Date(now - 30_000).toISOString().replace(/\.\d+Z$/, 'Z'),
    },
    deployment,
    repository: {
      id: 9,
      name: over.repo ?? 'card-api',
      full_name: `bank/${over.repo ?? 'card-api'}`,
      private: true,
    },
    sender: { login: 'github-actions[bot]', id: 41898282, type: 'Bot' },
  };
}

describe('GitHub deployment webhook over real HTTP (signature checked)', () => {
  let server: RunningServer;
  let catalog: CatalogService;
  const dir = writeTree({
    'org/catalog-info.yaml': ORG,
    'card-api/catalog-info.yaml': component('card-api'),
  });
  before(async () => {
    process.env.PORTAL_GITHUB_WEBHOOK_SECRET = SECRET;
    const store = await CatalogStore.open(
      `file:${path.join(mkdtempSync(path.join(tmpdir(), 'gh-')), 'p.db')}`,
    );
    catalog = new CatalogService(store, [dir]);
    await catalog.ingest();
    server = await startServer({ catalog, port: 0, ui: false });
  });
  after(async () => {
    delete process.env.PORTAL_GITHUB_WEBHOOK_SECRET;
    await server.close();
    await catalog.store.close();
  });

  const deliver = async (event: string, body: unknown, sign: string | null = SECRET) => {
    const raw = JSON.stringify(body);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
    };
    if (sign !== null)
      headers['x-hub-signature-256'] = `sha256=${createHmac('sha256', sign).update(raw).digest('hex')}`;
    const res = await fetch(`${server.url}/api/deploys/github`, { method: 'POST', headers, body: raw });
    return { status: res.status, body: await res.json() };
  };
  const stored = async () =>
    (await (await fetch(`${server.url}/api/deploys`)).json()).deploys as { id: string; status: string }[];

  it('a missing or wrong signature is 401 and nothing is stored', async () => {
    const missing = await deliver('deployment_status', deliveryOf('success'), null);
    assert.equal(missing.status, 401);
    assert.match(missing.body.error.message, /X-Hub-Signature-256 is missing/);
    const wrong = await deliver('deployment_status', deliveryOf('success'), 'not-the-secret');
    assert.equal(wrong.status, 401);
    assert.match(wrong.body.error.message, /does not match the body/);
    assert.deepEqual(await stored(), []);
  });

  it('deployment then deployment_status success: one deploy, started then succeeded, GitHub production = prod', async () => {
    const created = await deliver('deployment', deliveryOf('pending'));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.deploy.status, 'started');
    const done = await deliver('deployment_status', deliveryOf('success'));
    assert.equal(done.status, 200);
    assert.equal(done.body.outcome, 'updated');
    const d = done.body.deploy;
    assert.equal(d.id, 'github-1234567');
    assert.equal(d.service, 'component:default/card-api');
    assert.equal(d.environment, 'prod');
    assert.equal(d.version, 'v2.3.0');
    assert.equal(d.commit, '7638417db6d59f3c431d3e1f261cc637155684cd');
    assert.equal(d.image, 'registry.bank.internal/card-api@sha256:4f1e');
    assert.equal(d.actor, 'jane-doe');
    assert.equal(d.source, 'github');
    assert.equal(d.recordedBy, 'github:bank/card-api');
    // A redelivery changes nothing.
    const again = await deliver('deployment_status', deliveryOf('success'));
    assert.equal(again.body.outcome, 'replayed');
    assert.deepEqual(
      (await stored()).map((x) => [x.id, x.status]),
      [['github-1234567', 'succeeded']],
    );
  });

  it('failure is failed; inactive and ping record nothing; other events and unknown repos are refused', async () => {
    const failed = await deliver('deployment_status', deliveryOf('failure', { id: 77 }));
    assert.equal(failed.status, 201);
    assert.equal(failed.body.deploy.status, 'failed');
    assert.equal((await deliver('deployment_status', deliveryOf('inactive', { id: 78 }))).status, 202);
    assert.equal((await deliver('ping', { zen: 'Keep it logically awesome.', hook_id: 1 })).status, 202);
    const push = await deliver('push', { ref: 'refs/heads/main' });
    assert.equal(push.status, 400);
    assert.match(push.body.error.message, /send deployment and deployment_status events/);
    const unknown = await deliver('deployment_status', deliveryOf('success', { id: 79, repo: 'card-apx' }));
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.body.error.suggestions, ['component:default/card-api']);
    const env = await deliver('deployment_status', deliveryOf('success', { id: 80, environment: 'qa' }));
    assert.equal(env.status, 400);
    assert.match(env.body.error.message, /configured: staging, prod/);
    assert.deepEqual((await stored()).map((x) => x.id).sort(), ['github-1234567', 'github-77']);
  });
});
