import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildGraphIndex } from '@bank/graph';
import { serveRouter, type TestCatalog, testCatalog } from '@bank/plugin-entity/testing';
import { createExplorerRouter } from './router.ts';

describe('explorer router over real HTTP on 127.0.0.1', () => {
  let t: TestCatalog;
  let http: Awaited<ReturnType<typeof serveRouter>>;
  before(async () => {
    t = await testCatalog();
    const index = buildGraphIndex(t.catalog.loaded.all());
    http = await serveRouter('/api/explorer', createExplorerRouter({ getIndex: () => index }));
  });
  after(async () => {
    await http.close();
    t.cleanup();
  });

  it('estate: every call node with its team, collective and system, and every call edge as index triples', async () => {
    const { status, body } = await http.get('/estate');
    assert.equal(status, 200);
    const names = body.nodes.map((n: { name: string }) => n.name);
    assert.deepEqual(
      names,
      ['card-api', 'cards', 'feed', 'ledger', 'cards-db'].sort((a, b) => {
        const ra = body.nodes.find((n: { name: string }) => n.name === a).ref;
        const rb = body.nodes.find((n: { name: string }) => n.name === b).ref;
        return ra < rb ? -1 : 1;
      }),
    );
    const node = (name: string) => body.nodes.find((n: { name: string }) => n.name === name);
    assert.equal(body.collectives[node('card-api').collective].ref, 'group:default/payments');
    assert.equal(body.teams[node('ledger').owner].ref, 'group:default/ledger');
    assert.equal(body.systems[node('cards').system].ref, 'system:default/cards');
    assert.equal(node('feed').system, -1);
    const edges: string[] = [];
    for (let i = 0; i < body.edges.length; i += 3) {
      edges.push(
        `${body.nodes[body.edges[i]].name}>${body.nodes[body.edges[i + 1]].name}:${body.edges[i + 2]}`,
      );
    }
    assert.deepEqual(edges.sort(), ['card-api>cards:1', 'cards>cards-db:1', 'cards>ledger:1']);
    const res = await fetch(`${http.base}/estate`, {
      headers: { 'if-none-match': `"estate-${body.version}"` },
    });
    assert.equal(res.status, 304);
  });

  it('org: bank → collectives → squads with members and services by tier, orphans and coupling', async () => {
    const { body } = await http.get('/org');
    assert.equal(body.root.ref, 'group:default/bank');
    assert.equal(body.root.members, 2);
    assert.deepEqual(
      body.collectives.map((c: { name: string; squads: { name: string }[] }) => [
        c.name,
        c.squads.map((s) => s.name),
      ]),
      [
        ['core-banking', ['ghosts', 'ledger']],
        ['payments', ['card-processing']],
      ],
    );
    const payments = body.collectives.find((c: { name: string }) => c.name === 'payments');
    assert.deepEqual(payments.squads[0].byTier, { '1': 2 });
    assert.deepEqual(
      body.ownership.orphans.map((o: { ref: string; reason: string }) => [o.ref, o.reason]),
      [['component:default/feed', 'owner-without-members']],
    );
    assert.deepEqual(body.ownership.collectiveCoupling, [
      { from: 'group:default/payments', to: 'group:default/core-banking', calls: 1 },
    ]);
  });
});
