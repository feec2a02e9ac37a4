import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CatalogStore } from '@bank/catalog';
import { component, writeTree } from '@bank/catalog/testing';
import type { Auth } from '@bank/plugin-kit';
import type { Hono } from 'hono';
import { pickFields } from '../lib/filter.ts';
import type { ServedEntity } from '../lib/view.ts';
import { CatalogService } from '../service.ts';
import { createCatalogRouter } from './router.ts';

// The read API serves each entity's kept JSON text (CatalogView.json) instead of stringifying objects per
// request. Here every answer is compared, byte for byte, with what stringifying the served objects gives (the
// object path it replaced), for every entity of the bank's estate (services/) plus the odd shapes: a stale
// entity (served with a status), relations to missing targets, text outside ASCII, keys that look like numbers.
const ESTATE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'services');
const FIELDS = ['kind', 'metadata.name', 'metadata.namespace', 'spec.owner', 'relations'];

// Reads never ask the caller who they are; a write reaching this would be a bug in the test.
const noWrites = new Proxy({} as Auth, {
  get: () => () => {
    throw new Error('this test only reads');
  },
});

describe('catalog read API: kept JSON texts give the same bytes as stringifying the served objects', () => {
  let store: CatalogStore;
  let catalog: CatalogService;
  let app: Hono;
  const odd = writeTree({
    'odd/catalog-info.yaml': [
      'apiVersion: backstage.io/v1alpha1',
      'kind: Component',
      'metadata:',
      '  name: odd-one',
      '  title: "Zahlungsverkehr – Ümlaut, emoji 💳, quote \\" and \\\\ backslash"',
      '  annotations:',
      '    "2": numeric-looking key',
      '    "10": another',
      '    bank.io/tier: "2"',
      '  labels: { "1": one }',
      'spec:',
      '  type: service',
      '  lifecycle: production',
      '  owner: nobody-we-know',
      '  dependsOn: [component:not-here, resource:default/nor-this]',
      '',
    ].join('\n'),
    'stale/catalog-info.yaml': component('soon-stale', { owner: 'nobody-we-know' }),
  });

  before(async () => {
    store = await CatalogStore.open(`file:${path.join(mkdtempSync(path.join(tmpdir(), 'served-')), 'p.db')}`);
    catalog = new CatalogService(store, [ESTATE, odd]);
    await catalog.ingest();
    // Its file breaks: the last good version stays, served with a status.
    writeFileSync(path.join(odd, 'stale/catalog-info.yaml'), 'kind: [unclosed\n');
    await catalog.ingest();
    app = createCatalogRouter({ catalog, auth: noWrites });
  });
  after(async () => {
    await store.close();
  });

  const text = async (url: string, init?: RequestInit) => {
    const res = await app.request(url, init);
    assert.equal(res.status, 200, url);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/, url);
    return res.text();
  };
  const refOf = (e: { kind: string; metadata: { namespace?: string; name: string } }) =>
    `${e.kind}:${e.metadata.namespace ?? 'default'}/${e.metadata.name}`.toLowerCase();
  const served = (ref: string) => catalog.loaded.byRef.get(ref) as ServedEntity;

  it('covers the whole estate and the odd shapes', () => {
    const view = catalog.loaded;
    assert.ok(view.size > 1000, `the estate has ${view.size} entities`);
    assert.ok(view.stale.has('component:default/soon-stale'), 'one entity is stale');
    const odd = served('component:default/odd-one');
    assert.ok(
      odd.relations.some((r) => r.targetRef === 'component:default/not-here'),
      'a relation to a missing target is served',
    );
  });

  it('by name and by uid: every entity', async () => {
    for (const e of catalog.loaded.all()) {
      const expected = JSON.stringify(e);
      const { kind, metadata } = e;
      assert.equal(
        await text(
          `/entities/by-name/${encodeURIComponent(kind)}/${encodeURIComponent(metadata.namespace ?? 'default')}/${encodeURIComponent(metadata.name)}`,
        ),
        expected,
        refOf(e),
      );
      assert.equal(await text(`/entities/by-uid/${metadata.uid}`), expected, refOf(e));
    }
  });

  it('pages of a cursor walk, with and without fields, and the unpaged list', async () => {
    for (const fields of [[], FIELDS]) {
      const q = fields.length > 0 ? `&fields=${fields.join(',')}` : '';
      let url: string | undefined = `/entities/by-query?limit=300&orderField=metadata.name,asc${q}`;
      const seen = new Set<string>();
      while (url) {
        const body = await text(url);
        const answer = JSON.parse(body) as {
          items: ServedEntity[];
          totalItems: number;
          pageInfo: { nextCursor?: string; prevCursor?: string };
        };
        const objects = answer.items.map((i) => served(refOf(i)));
        const expected = JSON.stringify({
          items: fields.length > 0 ? objects.map((o) => pickFields(o, fields)) : objects,
          totalItems: answer.totalItems,
          pageInfo: answer.pageInfo,
        });
        assert.equal(body, expected);
        for (const i of answer.items) seen.add(refOf(i));
        url = answer.pageInfo.nextCursor
          ? `/entities/by-query?cursor=${encodeURIComponent(answer.pageInfo.nextCursor)}${q}`
          : undefined;
      }
      assert.equal(seen.size, catalog.loaded.size, 'the walk saw every entity once');

      const all = await text(`/entities?filter=kind=component${q}`);
      const components = catalog.loaded.all().filter((e) => e.kind === 'Component');
      assert.equal(
        all,
        JSON.stringify(fields.length > 0 ? components.map((o) => pickFields(o, fields)) : components),
      );
    }
  });

  it('by refs: every entity, with and without fields, missing refs answered null', async () => {
    const refs = [...catalog.loaded.byRef.keys()];
    for (const fields of [undefined, FIELDS]) {
      for (let i = 0; i < refs.length; i += 500) {
        const chunk = [...refs.slice(i, i + 500), 'component:default/not-here'];
        const body = await text('/entities/by-refs', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ entityRefs: chunk, ...(fields ? { fields } : {}) }),
        });
        const items = chunk.map((r) => {
          const e = catalog.loaded.byRef.get(r);
          return e ? (fields ? pickFields(e, fields) : e) : null;
        });
        assert.equal(body, JSON.stringify({ items }));
      }
    }
  });

  it('a new view after an ingest serves the new text, not the old one', async () => {
    writeFileSync(
      path.join(odd, 'stale/catalog-info.yaml'),
      component('soon-stale', { owner: 'nobody-we-know' }).replace('The soon-stale service', 'Fixed again'),
    );
    await catalog.ingest();
    const body = await text('/entities/by-name/component/default/soon-stale');
    assert.equal(body, JSON.stringify(served('component:default/soon-stale')));
    assert.match(body, /Fixed again/);
    assert.doesNotMatch(body, /"status"/);
  });
});

describe('catalog read API: a page asked again is the kept answer, and an ingest answers anew', () => {
  it('serves the same bytes for the same page on one view, and the edit on the next', async () => {
    const tree = writeTree({
      'a/catalog-info.yaml': component('alpha'),
      'b/catalog-info.yaml': component('beta'),
    });
    const store = await CatalogStore.open(
      `file:${path.join(mkdtempSync(path.join(tmpdir(), 'kept-')), 'p.db')}`,
    );
    try {
      const catalog = new CatalogService(store, [tree]);
      await catalog.ingest();
      const app = createCatalogRouter({ catalog, auth: noWrites });
      const urls = [
        '/entities/by-query?filter=kind%3Dcomponent&limit=1',
        '/entities?filter=kind%3Dcomponent&limit=5',
      ];
      const read = async (url: string) => {
        const res = await app.request(url);
        assert.equal(res.status, 200, url);
        return { body: await res.text(), link: res.headers.get('link') };
      };
      for (const url of urls) assert.deepEqual(await read(url), await read(url), url);
      const first = await Promise.all(urls.map(read));
      assert.match(first[0].body, /"nextCursor"/, 'a page of one of two has a next page');
      writeFileSync(
        path.join(tree, 'a/catalog-info.yaml'),
        component('alpha').replace('The alpha service', 'Alpha, edited'),
      );
      await catalog.ingest();
      const again = await Promise.all(urls.map(read));
      for (const [i, url] of urls.entries()) {
        assert.match(again[i].body, /Alpha, edited/, url);
        assert.doesNotMatch(again[i].body, /The alpha service/, url);
        assert.notEqual(again[i].body, first[i].body, url);
      }
      // Bad paging is still an error each time (errors are not kept).
      for (let i = 0; i < 2; i++)
        assert.equal((await app.request('/entities?filter=kind%3Dcomponent&limit=0')).status, 400);
    } finally {
      await store.close();
    }
  });
});
