import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CatalogStore, type Entity } from '@bank/catalog';
import { writeTree } from '@bank/catalog/testing';
import { CatalogService, importFromBackstage, parseFilters, writeDescriptors } from '@bank/plugin-catalog';
import { startServer } from './server.ts';

/** A catalogue as Backstage writes them: a locations file, a User as owner, a name Backstage allows, a placeholder. */
const SOURCE = {
  'all.yaml': `apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: everything}
spec: {targets: [./org.yaml, ./things.yaml]}
`,
  'org.yaml': `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a, description: The A team}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: jane}
spec: {memberOf: [team-a]}
`,
  'things.yaml': `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: My_Service.v2
  annotations: {github.com/project-slug: acme/my-service}
  tags: [java]
spec: {type: service, lifecycle: production, owner: user:jane, providesApis: [cards-api]}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: website}
spec: {type: website, lifecycle: experimental, owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: cards-api}
spec:
  type: openapi
  lifecycle: production
  owner: team-a
  definition: {$text: ./cards.yaml}
`,
  'cards.yaml': 'openapi: 3.0.0\ninfo: {title: Cards, version: 1.0.0}\n',
};

async function catalogOf(roots: string[]) {
  const store = await CatalogStore.open(
    `file:${path.join(mkdtempSync(path.join(tmpdir(), 'xfer-')), 'p.db')}`,
  );
  const catalog = new CatalogService(store, roots);
  await catalog.ingest();
  return { store, catalog };
}

/** What an author wrote, by ref: what must survive a trip through import and export. */
async function authored(catalog: CatalogService): Promise<Map<string, unknown>> {
  const view = await catalog.view();
  const out = new Map<string, unknown>();
  for (const [ref, e] of view.byRef) {
    if (e.kind === 'Location') continue;
    const { uid, etag, annotations, ...metadata } = e.metadata as Entity['metadata'];
    void uid;
    void etag;
    const own = Object.fromEntries(
      Object.entries(annotations ?? {}).filter(([k]) => !k.startsWith('backstage.io/')),
    );
    out.set(ref, { apiVersion: e.apiVersion, kind: e.kind, metadata: { ...metadata, own }, spec: e.spec });
  }
  return out;
}

describe('portal import --from-backstage / portal export --format backstage', () => {
  let source: Awaited<ReturnType<typeof catalogOf>>;
  let server: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    source = await catalogOf([path.join(writeTree(SOURCE), 'all.yaml')]);
    server = await startServer({ catalog: source.catalog, port: 0, ui: false });
  });
  after(async () => {
    await server.close();
    await source.store.close();
  });

  it('copies every entity of a running catalogue through @backstage/catalog-client (cursor pages) into files that ingest to the same entities', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'imported-'));
    const r = await importFromBackstage(server.url, out, { pageSize: 2 });
    assert.equal(r.read, 6, 'five entities and the Location');
    assert.deepEqual(r.skipped, ['location:default/everything']);
    assert.equal(r.written.length, 5);
    // Only what an author writes: no uid, etag, relations or the other catalogue's file paths.
    const text = readFileSync(
      path.join(out, 'default', 'component', 'My_Service.v2', 'catalog-info.yaml'),
      'utf8',
    );
    assert.doesNotMatch(text, /uid|etag|relations|managed-by|\/tmp\//);

    const target = await catalogOf([out]);
    try {
      const want = await authored(source.catalog);
      const got = await authored(target.catalog);
      assert.equal(want.size, 5);
      assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
      for (const [ref, e] of want) assert.deepEqual(got.get(ref), e, ref);
      // The placeholder was resolved by the source; its text travels as written.
      const api = (await target.catalog.view()).byRef.get('api:default/cards-api');
      assert.equal((api?.spec as { definition?: string } | undefined)?.definition, SOURCE['cards.yaml']);
      assert.deepEqual(await target.store.errors(), []);
    } finally {
      await target.store.close();
    }
  });

  it('--filter: conditions ANDed within one filter, filters ORed', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'imported-'));
    const r = await importFromBackstage(`${server.url}/api/catalog`, out, {
      filter: parseFilters(['kind=component,spec.type=service', 'kind=group']),
    });
    assert.equal(r.read, 2);
    assert.deepEqual(r.written.map((f) => path.relative(out, f)).sort(), [
      'default/component/My_Service.v2/catalog-info.yaml',
      'default/group/team-a/catalog-info.yaml',
    ]);
    assert.throws(() => parseFilters(['kind']), /write key=value/);
  });

  it('export writes descriptor files that bring back the same catalogue; a name that would leave the folder is refused', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'exported-'));
    const view = await source.catalog.view();
    const r = writeDescriptors(view.byRef.values(), out);
    assert.equal(r.written.length, 5);
    const back = await catalogOf([out]);
    try {
      assert.deepEqual(await authored(back.catalog), await authored(source.catalog));
    } finally {
      await back.store.close();
    }
    assert.throws(
      () =>
        writeDescriptors(
          [
            {
              apiVersion: 'backstage.io/v1alpha1',
              kind: 'Component',
              metadata: { name: '../../etc' },
              spec: {},
            },
          ],
          out,
        ),
      /name "\.\.\/\.\.\/etc" cannot be a folder name; not written/,
    );
  });
});
