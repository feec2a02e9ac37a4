import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildGraphIndex } from '@bank/graph';
import { type TestCatalog, testCatalog } from '../testing/estate.ts';
import { serveRouter } from '../testing/serve.ts';
import { createEntityRouter } from './router.ts';

describe('entity router over real HTTP on 127.0.0.1', () => {
  let t: TestCatalog;
  let http: Awaited<ReturnType<typeof serveRouter>>;
  before(async () => {
    t = await testCatalog();
    const index = buildGraphIndex(t.catalog.loaded.all());
    http = await serveRouter(
      '/api/entity',
      createEntityRouter({ catalog: t.catalog, getIndex: () => index }),
    );
  });
  after(async () => {
    await http.close();
    t.cleanup();
  });

  it('a component bundle: owner, collective, facts, direct and transitive calls both ways', async () => {
    const { status, body } = await http.get('/component/default/cards');
    assert.equal(status, 200);
    assert.equal(body.owner.ref, 'group:default/card-processing');
    assert.equal(body.collective.ref, 'group:default/payments');
    assert.equal(body.system.ref, 'system:default/cards');
    assert.deepEqual(
      body.calls.dependencies.map((d: { name: string; via: string[] }) => [d.name, d.via]),
      [
        ['ledger', ['api:default/ledger-rpc']],
        ['cards-db', ['dependsOn']],
      ],
    );
    assert.deepEqual(
      body.calls.dependents.map((d: { name: string }) => d.name),
      ['card-api'],
    );
    assert.equal(body.calls.transitiveDependencies, 2);
    assert.equal(body.calls.transitiveDependents, 1);
    const api = await http.get('/component/default/card-api');
    assert.equal(api.body.calls.transitiveDependencies, 3, 'cards, ledger, cards-db');
    assert.equal(api.body.facts.oncall, 'payments-cards');
    assert.equal(api.body.facts.runbook, 'https://runbooks.bank.internal/card-api');
  });

  it('group bundles: members, owned services, sub-teams and services by tier below', async () => {
    const squad = (await http.get('/group/default/ledger')).body;
    assert.deepEqual(
      squad.group.members.map((m: { ref: string }) => m.ref),
      ['user:default/bob'],
    );
    assert.equal(squad.group.email, 'ledger@bank.example');
    const collective = (await http.get('/group/default/core-banking')).body;
    assert.deepEqual(
      collective.group.children.map((c: { name: string }) => c.name),
      ['ghosts', 'ledger'],
    );
    assert.equal(collective.group.servicesBelow, 2);
    assert.deepEqual(collective.group.servicesByTier, { '1': 1, '3': 1 });
    const user = (await http.get('/user/default/alice')).body;
    assert.deepEqual(
      user.user.owned.map((o: { name: string }) => o.name),
      ['card-api', 'cards'],
    );
  });

  it('hostile text comes back as data (rendering it inert is the UI’s job), links keep only http(s)/mailto', async () => {
    const { body } = await http.get('/component/default/feed');
    assert.match(body.entity.metadata.description, /<script>/);
    assert.deepEqual(body.links, [{ url: 'https://feed.bank.internal', title: '<b>Dashboard</b>' }]);
  });

  it('desired Kubernetes state from the manifests; a folder outside the service is refused', async () => {
    const { body } = await http.get('/component/default/ledger/k8s');
    assert.equal(body.k8s.workloads[0].replicas, 3);
    assert.equal(body.k8s.workloads[0].containers[0].image, 'registry.bank.internal/ledger:v1.2.3');
    assert.deepEqual(body.k8s.workloads[0].containers[0].requests, { cpu: '100m', memory: '128Mi' });
    assert.deepEqual(body.k8s.objects, [
      { kind: 'Service', name: 'service-ledger', file: 'deployment.yaml' },
    ]);
    const evil = await http.get('/component/default/feed/k8s');
    assert.equal(evil.body.k8s.workloads.length, 0);
    assert.match(evil.body.k8s.problems[0], /outside the service's folder|No manifests folder/);
    const none = await http.get('/component/default/cards/k8s');
    assert.equal(none.body.k8s, null);
  });

  it('404 with the closest names for an unknown entity', async () => {
    const { status, body } = await http.get('/component/default/ledgr');
    assert.equal(status, 404);
    assert.ok(body.error.suggestions.includes('component:default/ledger'), JSON.stringify(body));
  });

  it('a stale entity says why, once (the page already says "Stale entry"), and names its file errors', async () => {
    const file = path.join(t.root, 'feed/catalog-info.yaml');
    writeFileSync(file, `${readFileSync(file, 'utf8')}\n  oops: [unclosed\n`);
    await t.catalog.ingest();
    const { body } = await http.get('/component/default/feed');
    assert.match(body.stale, /^Its file has an error, the last good version is shown\. Malformed YAML/);
    assert.ok(body.ingestErrors.some((e: { file: string }) => e.file.endsWith('feed/catalog-info.yaml')));
    const fine = await http.get('/component/default/cards');
    assert.equal(fine.body.stale, null);
  });

  it('a missing owner and a missing dependency are kept as Backstage keeps them: marked missing, warned with the closest names', async () => {
    const dir = path.join(t.root, 'typo');
    mkdirSync(dir);
    writeFileSync(
      path.join(dir, 'catalog-info.yaml'),
      `apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: typo-service }
spec: { type: service, lifecycle: production, owner: ledgr, dependsOn: [resource:gone-db, component:ledger] }
`,
    );
    try {
      await t.catalog.ingest();
      const { status, body } = await http.get('/component/default/typo-service');
      assert.equal(status, 200);
      assert.equal(body.owner.ref, 'group:default/ledgr');
      assert.equal(body.owner.missing, true);
      assert.deepEqual(
        body.relations.dependsOn.map((d: { name: string; missing?: true }) => [d.name, d.missing ?? false]),
        [
          ['gone-db', true],
          ['ledger', false],
        ],
      );
      const warnings = body.ingestErrors.filter((e: { severity: string }) => e.severity === 'warning');
      assert.equal(body.ingestErrors.length, warnings.length, 'warnings only: nothing was refused');
      assert.ok(
        warnings.some((w: { message: string }) =>
          /^owner "ledgr" does not exist .*did you mean group:default\/ledger/.test(w.message),
        ),
        JSON.stringify(warnings),
      );
      assert.ok(warnings.some((w: { message: string }) => /resource:gone-db/.test(w.message)));
    } finally {
      rmSync(dir, { recursive: true });
      await t.catalog.ingest();
    }
  });
});
