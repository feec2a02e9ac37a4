import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { serveRouter, type TestCatalog, testCatalog } from '@bank/plugin-entity/testing';
import { createSearchRouter } from './router.ts';

describe('search router over real HTTP on 127.0.0.1', () => {
  let t: TestCatalog;
  let http: Awaited<ReturnType<typeof serveRouter>>;
  before(async () => {
    t = await testCatalog();
    http = await serveRouter('/api/search', createSearchRouter({ catalog: t.catalog }));
  });
  after(async () => {
    await http.close();
    t.cleanup();
  });

  it('typeahead: exact name first, then prefix, then title, tag and owner matches', async () => {
    const { status, body } = await http.get('?q=ledger');
    assert.equal(status, 200);
    assert.deepEqual(
      body.items.slice(0, 3).map((h: { ref: string }) => h.ref),
      ['component:default/ledger', 'group:default/ledger', 'api:default/ledger-rpc'],
    );
    assert.equal((await http.get('?q=Card%20API')).body.items[0].ref, 'component:default/card-api');
    assert.equal(
      (await http.get('?q=payments')).body.items.some((h: { matched: string }) => h.matched === 'tag'),
      true,
    );
    const byOwner = (await http.get('?q=card%20processing')).body.items.map((h: { name: string }) => h.name);
    assert.ok(byOwner.includes('cards'), byOwner.join());
    assert.deepEqual((await http.get('?q=')).body.items, []);
    assert.equal((await http.get('?limit=99&q=a')).status, 400);
  });

  it('catalogue page: filters, owner/collective/tier columns, facet counts that ignore their own filter', async () => {
    const { body } = await http.get('/catalogue?kind=component&collective=group:default/payments');
    assert.deepEqual(
      body.rows.map((r: { name: string }) => r.name),
      ['card-api', 'cards'],
    );
    assert.equal(body.rows[0].ownerTitle, 'Card Processing');
    assert.equal(body.rows[0].collectiveTitle, 'Payments');
    assert.equal(body.rows[0].system, 'system:default/cards');
    assert.equal(body.rows[0].tier, '1');
    const collectives = Object.fromEntries(
      body.facets.collective.map((f: { value: string; count: number }) => [f.value, f.count]),
    );
    assert.deepEqual(collectives, { 'group:default/payments': 2, 'group:default/core-banking': 2 });
    const kinds = Object.fromEntries(
      body.facets.kind.map((f: { value: string; count: number }) => [f.value, f.count]),
    );
    assert.equal(kinds.component, 2);
    assert.equal(kinds.resource, 1, 'cards-db is in payments too');
  });

  it('sorting, paging and text filter; bad parameters are 400s naming the field', async () => {
    const sorted = (await http.get('/catalogue?kind=component&sort=tier&dir=desc&size=10')).body;
    assert.equal(sorted.rows[0].name, 'feed');
    const paged = (await http.get('/catalogue?size=10&page=2')).body;
    assert.equal(paged.page, 2);
    assert.equal(paged.rows.length, paged.total - 10);
    const text = (await http.get('/catalogue?q=double-entry')).body;
    assert.deepEqual(
      text.rows.map((r: { name: string }) => r.name),
      ['ledger'],
    );
    for (const [query, field] of [
      ['sort=__proto__', /sort must be one of/],
      ['page=0', /page must be an integer/],
      ['size=5000', /size must be an integer/],
      ['dir=up', /dir must be asc or desc/],
    ] as const) {
      const r = await http.get(`/catalogue?${query}`);
      assert.equal(r.status, 400, query);
      assert.match(r.body.error.message, field);
    }
  });
});
