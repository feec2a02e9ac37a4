import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { testDatabases } from '@bank/catalog/testing';
import { buildGraphIndex } from '@bank/graph';
import { smallEstate } from '@bank/graph/testing';
import { DeploysService } from './service.ts';

const NOW = Date.parse('2026-12-04T12:00:00Z');
const daysAgo = (d: number) => new Date(NOW - d * 86_400_000).toISOString();
const ev = (
  id: string,
  service: string,
  environment: string,
  version: string,
  days: number,
  status = 'succeeded',
) => ({
  id,
  service,
  environment,
  version,
  status,
  startedAt: daysAgo(days),
  finishedAt: daysAgo(days - 0.001),
});

for (const db of testDatabases()) {
  describe(`version skew between staging and prod on ${db.name}`, { skip: db.skip }, () => {
    let store: CatalogStore;
    let svc: DeploysService;
    before(async () => {
      store = await CatalogStore.open(await db.create());
      const index = buildGraphIndex(smallEstate());
      svc = await new DeploysService({ store, getIndex: () => index, now: () => NOW }).init();
      // card-api: prod 1.0 (40 d ago), staging moved on twice since → stale and behind.
      // ledger: prod 2.0 (2 d), staging 2.1 → one release behind, fresh: not listed.
      for (const e of [
        ev('c1', 'card-api', 'prod', '1.0.0', 40),
        ev('c2', 'card-api', 'staging', '1.1.0', 20),
        ev('c3', 'card-api', 'staging', '1.2.0', 10),
        ev('c4', 'card-api', 'staging', '1.3.0', 5, 'failed'),
        ev('l1', 'ledger', 'prod', '2.0.0', 2),
        ev('l2', 'ledger', 'staging', '2.1.0', 1),
      ])
        await svc.record(e, 'test');
    });
    after(async () => store.close());

    it('lists services whose prod is older than N days or more than one release behind staging', async () => {
      const r = await svc.skew(30);
      assert.deepEqual(r.environments, ['staging', 'prod']);
      assert.deepEqual(
        r.services.map((s) => [s.service, s.prod, s.staging, s.releasesBehind, s.stale, s.behind]),
        [['component:default/card-api', '1.0.0', '1.2.0', 2, true, true]],
      );
      // With a 1-day threshold ledger's 2-day-old prod is stale too (and one release behind, not "behind").
      const tight = await svc.skew(1);
      const ledger = tight.services.find((s) => s.service === 'component:default/ledger');
      assert.deepEqual([ledger?.releasesBehind, ledger?.stale, ledger?.behind], [1, true, false]);
      await assert.rejects(svc.skew(-1), /days: a positive number/);
    });
  });
}
