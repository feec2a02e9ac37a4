import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { component, ORG, removeFile, writeTree } from '@bank/catalog/testing';
import { CatalogService } from './service.ts';

describe('CatalogService: what a partial read says about problems', () => {
  it("refreshing one entity keeps the other files' stored problems; a whole ingest replaces them all", async () => {
    const dir = writeTree({
      'org/catalog-info.yaml': ORG,
      'ledger/catalog-info.yaml': component('ledger'),
      'broken/catalog-info.yaml': 'kind: [unclosed\n',
    });
    const store = await CatalogStore.open(
      `file:${path.join(mkdtempSync(path.join(tmpdir(), 'svc-')), 'p.db')}`,
    );
    try {
      const catalog = new CatalogService(store, [dir]);
      await catalog.ingest();
      const broken = (await store.errors()).filter((e) => e.file.endsWith('broken/catalog-info.yaml'));
      assert.equal(broken.length, 1);
      await catalog.refreshEntity('component:default/ledger');
      assert.deepEqual(
        (await store.errors()).filter((e) => e.file.endsWith('broken/catalog-info.yaml')),
        broken,
        'a refresh of another file does not clear them',
      );
      removeFile(dir, 'broken/catalog-info.yaml');
      await catalog.ingest();
      assert.deepEqual(await store.errors(), []);
    } finally {
      await store.close();
    }
  });
});

describe('CatalogService: refreshing a Location', () => {
  it('reads the Location file again and, of the files it lists, only those that changed (as Backstage re-processes)', async () => {
    const dir = writeTree({
      'all.yaml': `apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: all}
spec: {targets: [./a.yaml, ./b.yaml, ./c.yaml]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: jane}
spec: {memberOf: []}
`,
      'a.yaml': component('a', { owner: 'user:jane' }),
      'b.yaml': component('b', { owner: 'user:jane' }),
      'c.yaml': component('c', { owner: 'user:jane' }),
    });
    const store = await CatalogStore.open(
      `file:${path.join(mkdtempSync(path.join(tmpdir(), 'svc-')), 'p.db')}`,
    );
    try {
      const catalog = new CatalogService(store, [path.join(dir, 'all.yaml')]);
      await catalog.ingest();
      const same = await catalog.refreshEntity('location:default/all');
      assert.deepEqual(same?.files, { total: 4, changed: 1, skipped: 3, removed: 0 });
      writeFileSync(
        path.join(dir, 'b.yaml'),
        component('b', { owner: 'user:jane' }).replace('The b', 'Edited b'),
      );
      const edited = await catalog.refreshEntity('location:default/all');
      assert.deepEqual(edited?.files, { total: 4, changed: 2, skipped: 2, removed: 0 });
      const b = (await catalog.view()).byRef.get('component:default/b');
      assert.equal(b?.metadata.description, 'Edited b service');
    } finally {
      await store.close();
    }
  });
});
