import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { component, ORG, removeFile, writeTree } from '@bank/catalog/testing/tree.ts';
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
