/**
 * A team's collective and who calls whom have one home each (graph/src/card.ts nearestCollective, the graph's
 * call edges), and every place that shows them asks it: the graph's cards, the catalogue view (CLI `portal
 * get` and `owners`), the catalogue table's rows, the entity page and the scaffolder's network peers. The
 * estate here is the one where the old answers split: a squad under a sub-collective (a tribe, not a
 * collective) under a collective, and APIs not named `<service>-rpc`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CatalogStore } from '@bank/catalog';
import { writeTree } from '@bank/catalog/testing';
import { buildGraphIndex, collectiveOf, declaredCalls, type GraphIndex, nodeCard } from '@bank/graph';
import { CatalogService, type CatalogView, owners } from '@bank/plugin-catalog';
import { entityBundle } from '@bank/plugin-entity';
import { builtinActions } from '@bank/plugin-scaffolder';
import { makeContext } from '@bank/plugin-scaffolder/testing';
import { rowsOf } from '@bank/plugin-search';

const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'portal.mjs');

const group = (name: string, type: string, parent?: string, children: string[] = []) =>
  `apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: ${name}
spec:
  type: ${type}
${parent ? `  parent: ${parent}\n` : ''}  children: [${children.join(', ')}]
---
`;

const service = (name: string, spec: string) => `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ${name}
spec:
  type: service
  lifecycle: production
  owner: card-squad
${spec}`;

const TREE = {
  'org/catalog-info.yaml': [
    group('bank', 'organization', undefined, ['payments']),
    group('payments', 'collective', 'bank', ['cards-tribe']),
    group('cards-tribe', 'tribe', 'payments', ['card-squad']),
    group('card-squad', 'squad', 'cards-tribe'),
  ].join(''),
  'card-api/catalog-info.yaml': `${service('card-api', '  providesApis: [card-payments]\n')}---
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: card-payments
spec:
  type: grpc
  lifecycle: production
  owner: card-squad
  definition: 'syntax = "proto3";'
`,
  'feed/catalog-info.yaml': service('feed', '  consumesApis: [card-payments]\n'),
  // Calls the service the scaffolder is about to create, through the API that service will provide.
  'mobile/catalog-info.yaml': service('mobile', '  consumesApis: [push-events]\n'),
};

const SQUAD = 'group:default/card-squad';
const PAYMENTS = 'group:default/payments';

describe("a squad's collective and who calls whom read the same everywhere (nested groups, APIs not named <service>-rpc)", () => {
  const root = writeTree(TREE);
  const url = `file:${path.join(mkdtempSync(path.join(tmpdir(), 'teams-calls-')), 'p.db')}`;
  let store: CatalogStore;
  let catalog: CatalogService;
  let view: CatalogView;
  let index: GraphIndex;
  before(async () => {
    store = await CatalogStore.open(url);
    catalog = new CatalogService(store, [root]);
    await catalog.ingest();
    view = await catalog.view();
    index = buildGraphIndex(view.all());
  });
  after(() => store.close());

  it('the graph: the nearest collective walking up, past the tribe; calls through the API whatever its name', () => {
    assert.equal(collectiveOf(index, SQUAD), PAYMENTS);
    assert.equal(nodeCard(index, 'component:default/card-api').collective, PAYMENTS);
    assert.deepEqual(declaredCalls(index, 'component:default/feed', 'out'), [
      { ref: 'component:default/card-api', kinds: ['consumesApi'], apis: ['api:default/card-payments'] },
    ]);
  });

  it('the catalogue view, its owners list and the catalogue table name the same collective', () => {
    assert.equal(view.ownerOf('component:default/card-api').collective, PAYMENTS);
    assert.equal(view.collectiveOf('group:default/cards-tribe'), PAYMENTS);
    assert.equal(owners(view).find((o) => o.group === SQUAD)?.collective, PAYMENTS);
    const rows = rowsOf(view);
    for (const ref of ['component:default/card-api', SQUAD, 'group:default/cards-tribe', PAYMENTS])
      assert.equal(rows.find((r) => r.ref === ref)?.collective, PAYMENTS, ref);
  });

  it('the entity page: the same collective, feed among the callers of card-api through card-payments', () => {
    const page = entityBundle(view, index, 'component:default/card-api', []);
    assert.equal(page.collective?.ref, PAYMENTS);
    assert.deepEqual(
      page.calls?.dependents.map((d) => [d.ref, d.via]),
      [['component:default/feed', ['api:default/card-payments']]],
    );
  });

  it('portal get: the owner with its collective, callees and callers as the graph has them', () => {
    const portal = (...args: string[]) => {
      const env = { ...process.env };
      delete env.NODE_TEST_CONTEXT;
      const r = spawnSync(process.execPath, [BIN, '--db', url, ...args], { encoding: 'utf8', env });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    };
    const cardApi = portal('get', 'card-api');
    assert.match(cardApi, /^owner\s+group:card-squad \(group:payments\)$/m);
    assert.match(cardApi, /^dependents\s+feed$/m);
    const feed = portal('get', 'feed');
    assert.match(feed, /^depends on\s+card-api \(via api:card-payments\)$/m);
    assert.match(feed, /^consumes\s+api:card-payments$/m);
    const rows = JSON.parse(portal('owners', '--json')) as { group: string; collective?: string }[];
    assert.equal(rows.find((r) => r.group === SQUAD)?.collective, PAYMENTS);
  });

  it("the scaffolder's network peers: the same collective, the callee's API and the new service's callers", async () => {
    const peers = builtinActions().find((a) => a.id === 'bank:network-peers');
    assert.ok(peers);
    const ctx = makeContext(
      {
        name: 'push',
        owner: 'card-squad',
        dependsOn: ['component:default/card-api'],
        providesApis: ['push-events'],
      },
      { env: { catalog, repoRoot: root, servicesDir: root } },
    );
    await peers.handler(ctx);
    assert.equal(ctx.outputs.collective, 'payments');
    assert.deepEqual(ctx.outputs.consumesApis, ['api:default/card-payments']);
    assert.deepEqual(
      (ctx.outputs.callers as { ref: string }[]).map((c) => c.ref),
      ['component:default/mobile'],
    );
  });
});
