import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { applyChanges, buildGraphIndex, type GraphIndex } from '@bank/graph';
import { smallEstate, smallEstateSpecs, toEntities } from '@bank/graph/testing';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createGraphRouter } from './router.ts';

describe('graph router over real HTTP on 127.0.0.1', () => {
  let index: GraphIndex = buildGraphIndex(smallEstate());
  let server: ReturnType<typeof serve>;
  let base = '';
  before(async () => {
    const portal = new Hono();
    portal.route('/api/graph', createGraphRouter({ getIndex: () => index }));
    await new Promise<void>((resolve) => {
      server = serve({ fetch: portal.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) => {
        base = `http://127.0.0.1:${info.port}/api/graph`;
        resolve();
      });
    });
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const get = async (path: string) => {
    const res = await fetch(`${base}${path}`);
    const type = res.headers.get('content-type') ?? '';
    return { status: res.status, type, body: type.includes('json') ? await res.json() : await res.text() };
  };

  it('GET /paths: hops with ref, name, owner, tier', async () => {
    const { status, body } = await get('/paths?from=card-api&to=cassandra-ledger&k=2&maxHops=5');
    assert.equal(status, 200);
    assert.equal(body.from, 'component:default/card-api');
    assert.deepEqual(
      body.paths[0].hops.map((h: { name: string; owner: string; tier: number }) => [h.name, h.owner, h.tier]),
      [
        ['card-api', 'group:default/card-processing', 1],
        ['card-processing', 'group:default/card-processing', 1],
        ['ledger', 'group:default/ledger', 1],
        ['cassandra-ledger', 'group:default/ledger', null],
      ],
    );
  });

  it('404 with the closest names for an unknown ref', async () => {
    const { status, body } = await get('/paths?from=card-apu&to=ledger');
    assert.equal(status, 404);
    assert.equal(body.error.name, 'NotFoundError');
    assert.match(body.error.message, /unknown ref 'card-apu'/);
    assert.deepEqual(body.error.suggestions, ['component:default/card-api']);
    assert.equal(body.response.statusCode, 404);
  });

  it('400 with the limits for k and maxHops out of range or not numbers, from = to, malformed refs', async () => {
    for (const [query, pattern] of [
      ['k=51', /k must be an integer from 1 to 50/],
      ['k=abc', /k must be an integer from 1 to 50 \(got "abc"\)/],
      ['maxHops=16', /maxHops must be an integer from 1 to 15/],
      ['via=gossip', /via must be one of declared, observed, any/],
    ] as const) {
      const { status, body } = await get(`/paths?from=card-api&to=ledger&${query}`);
      assert.equal(status, 400, query);
      assert.equal(body.error.name, 'InputError');
      assert.match(body.error.message, pattern);
    }
    const limits = await get('/paths?from=card-api&to=ledger&k=51');
    assert.deepEqual([limits.body.error.min, limits.body.error.max], [1, 50]);
    assert.equal((await get('/paths?from=card-api&to=card-api')).status, 400);
    assert.equal((await get('/paths?from=a:b:c&to=ledger')).status, 400);
    assert.equal((await get('/paths?to=ledger')).status, 400);
  });

  it('GET /impact, /neighbourhood, /cycles, /ownership', async () => {
    const impact = await get('/impact?ref=ledger&depth=1');
    assert.equal(impact.status, 200);
    assert.deepEqual(
      impact.body.dependents.map((d: { name: string }) => d.name),
      ['card-processing', 'audit'],
    );
    assert.equal((await get('/impact?ref=ledger&depth=0')).status, 400);
    const around = await get('/neighbourhood?ref=ledger&depth=1&direction=down');
    assert.deepEqual(
      around.body.nodes.map((n: { name: string }) => n.name),
      ['ledger', 'audit', 'cassandra-ledger'],
    );
    assert.equal((await get('/neighbourhood?ref=ledger&direction=sideways')).status, 400);
    const cycles = await get('/cycles');
    assert.equal(cycles.body.cycles.length, 1);
    const ownership = await get('/ownership');
    assert.equal(ownership.body.orphans.length, 2);
  });

  it('GET /export in every format, and 400 for an unknown one', async () => {
    assert.match((await get('/export?format=cypher')).body, /MERGE \(n:Entity/);
    const graphml = await get('/export?format=graphml');
    assert.match(graphml.type, /graphml/);
    assert.match((await get('/export?format=dot&scope=calls')).body, /^digraph estate/);
    assert.ok(Array.isArray((await get('/export?format=json')).body.nodes));
    const bad = await get('/export?format=pdf');
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /format must be one of cypher, graphml, dot, json/);
  });

  it('each request answers from the index as it is when the request runs (snapshot per request)', async () => {
    const before = await get('/paths?from=card-api&to=feed');
    assert.equal(before.body.paths.length, 1);
    const specs = smallEstateSpecs();
    const cardApi = specs.find((s) => s.name === 'card-api');
    assert.ok(cardApi);
    cardApi.dependsOn = [...(cardApi.dependsOn ?? []), 'component:default/feed'];
    const next = buildGraphIndex(smallEstate());
    applyChanges(next, { upserted: toEntities(specs).filter((e) => e.metadata.name === 'card-api') });
    index = next;
    const afterChange = await get('/paths?from=card-api&to=feed');
    assert.equal(afterChange.body.paths.length, 2);
  });

  it('a cached paths answer is dropped when the same index changes in place (version bump)', async () => {
    index = buildGraphIndex(smallEstate());
    const first = await get('/paths?from=card-api&to=feed');
    assert.equal(first.body.paths.length, 1);
    assert.deepEqual((await get('/paths?from=card-api&to=feed')).body, first.body);
    const specs = smallEstateSpecs();
    const cardApi = specs.find((s) => s.name === 'card-api');
    assert.ok(cardApi);
    cardApi.dependsOn = [...(cardApi.dependsOn ?? []), 'component:default/feed'];
    applyChanges(index, { upserted: toEntities(specs).filter((e) => e.metadata.name === 'card-api') });
    const changed = await get('/paths?from=card-api&to=feed');
    assert.equal(changed.body.paths.length, 2);
    assert.equal((await get('/paths?from=card-api&to=feed&k=1')).body.paths.length, 1);
  });

  it('an impact answer asked again is the same; it changes when the same index changes in place', async () => {
    index = buildGraphIndex(smallEstate());
    const direct = async () =>
      (await get('/impact?ref=feed&depth=1')).body.dependents.map(
        (d: { name: string }) => d.name,
      ) as string[];
    const first = await direct();
    assert.ok(!first.includes('card-api'), first.join(', '));
    assert.deepEqual(await direct(), first);
    const specs = smallEstateSpecs();
    const cardApi = specs.find((s) => s.name === 'card-api');
    assert.ok(cardApi);
    cardApi.dependsOn = [...(cardApi.dependsOn ?? []), 'component:default/feed'];
    applyChanges(index, { upserted: toEntities(specs).filter((e) => e.metadata.name === 'card-api') });
    assert.deepEqual((await direct()).sort(), [...first, 'card-api'].sort());
    // Another depth is another question.
    assert.ok((await get('/impact?ref=feed')).body.total >= first.length + 1);
  });
});
