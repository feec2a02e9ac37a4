import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testDatabases } from '../testing/databases.ts';
import { CatalogStore } from './store.ts';

for (const db of testDatabases()) {
  describe(`store on ${db.name}: audit log, locations and tokens through Prisma Client`, {
    skip: db.skip,
  }, () => {
    it('records who wrote what, newest first', async () => {
      const store = await CatalogStore.open(await db.create());
      await store.audit('user:default/jane.doe', 'catalog.refresh', 'component:default/ledger', { n: 1 });
      await store.audit('token:ci', 'scaffolder.create', 'component:default/new-svc');
      const log = await store.auditLog(10);
      assert.deepEqual(
        log.map((r) => [r.actor, r.action, r.target]),
        [
          ['token:ci', 'scaffolder.create', 'component:default/new-svc'],
          ['user:default/jane.doe', 'catalog.refresh', 'component:default/ledger'],
        ],
      );
      assert.equal(log[1].details, '{"n":1}');
      assert.ok(Date.now() - Date.parse(log[0].at) < 60_000, 'timestamps are now');
      await store.close();
    });

    it('adds, lists and removes locations; refuses a duplicate target', async () => {
      const store = await CatalogStore.open(await db.create());
      const loc = {
        id: 'abc',
        type: 'file',
        target: '/srv/catalog-info.yaml',
        entityRef: 'location:default/generated-abc',
      };
      await store.addLocation(loc);
      assert.deepEqual(await store.locations(), [loc]);
      await assert.rejects(store.addLocation({ ...loc, id: 'other' }));
      assert.equal(await store.removeLocation('abc'), true);
      assert.equal(await store.removeLocation('abc'), false);
      await store.close();
    });

    it('finds tokens by hash only while they are not revoked', async () => {
      const store = await CatalogStore.open(await db.create());
      await store.addToken({ id: 't1', name: 'ci', hash: 'h1', createdBy: 'user:default/jane.doe' });
      assert.deepEqual(await store.tokenByHash('h1'), {
        id: 't1',
        name: 'ci',
        createdBy: 'user:default/jane.doe',
      });
      assert.equal(await store.tokenByHash('nope'), undefined);
      await store.close();
    });
  });
}
