import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { testDatabases } from '@bank/catalog/testing';
import { buildGraphIndex } from '@bank/graph';
import { smallEstate } from '@bank/graph/testing';
import { DeploysService } from './service.ts';

const NOW = Date.parse('2026-12-04T12:00:00Z');
const hoursAgo = (h: number) => new Date(NOW - h * 3_600_000).toISOString();
const ev = (
  id: string,
  service: string,
  environment: string,
  version: string,
  hours: number,
  status = 'succeeded',
) => ({
  id,
  service,
  environment,
  version,
  actor: 'ana',
  status,
  startedAt: hoursAgo(hours),
  finishedAt: status === 'started' ? undefined : hoursAgo(hours - 0.1),
});
const ref = (name: string) => `component:default/${name}`;

for (const db of testDatabases()) {
  describe(`the catalogue's deploy column and "changed" filter on ${db.name}`, { skip: db.skip }, () => {
    let store: CatalogStore;
    let svc: DeploysService;
    before(async () => {
      store = await CatalogStore.open(await db.create());
      const index = buildGraphIndex(smallEstate());
      svc = await new DeploysService({
        store,
        getIndex: () => index,
        now: () => NOW,
        // What plugins/entity's desiredStateOf reads from card-api's k8s/ (tested there, on real files).
        desiredOf: async (service) =>
          service === ref('card-api')
            ? {
                dir: 'k8s',
                problems: [],
                workloads: [
                  {
                    kind: 'Deployment',
                    name: 'card-api',
                    replicas: 3,
                    file: 'd.yaml',
                    containers: [{ name: 'card-api', image: 'card-api:1.1.0' }],
                  },
                ],
              }
            : null,
      }).init();
      for (const e of [
        // card-api: prod 1.0 three days ago, a failed prod deploy of 1.1 two hours ago → changed, runs 1.0.
        ev('c1', 'card-api', 'prod', '1.0.0', 72),
        ev('c2', 'card-api', 'staging', '1.1.0', 30),
        ev('c3', 'card-api', 'prod', '1.1.0', 2, 'failed'),
        // ledger: only ever in staging, 5 days ago → shows staging's version, not changed.
        ev('l1', 'ledger', 'staging', '2.0.0', 120),
        // feed: staging only, 1 hour ago, still rolling out → changed, nothing running anywhere.
        ev('f1', 'feed', 'staging', '0.9.0', 1, 'started'),
      ])
        await svc.record(e, 'test');
    });
    after(async () => store.close());

    it('per service of a page: the version deployed in prod (else the environment before it) and the 24 h marker', async () => {
      const column = await svc.catalogueColumn([
        ref('card-api'),
        ref('ledger'),
        ref('feed'),
        ref('lonely'),
        'group:default/ledger',
      ]);
      const row = (name: string) => {
        const c = column.get(ref(name));
        return [c?.deployed?.environment ?? null, c?.deployed?.version ?? null, c?.changed, c?.lastChangeAt];
      };
      assert.deepEqual(row('card-api'), ['prod', '1.0.0', true, hoursAgo(2)]);
      assert.deepEqual(row('ledger'), ['staging', '2.0.0', false, hoursAgo(120)]);
      assert.deepEqual(row('feed'), [null, null, true, hoursAgo(1)]);
      assert.deepEqual(row('lonely'), [null, null, false, null], 'never deployed');
      assert.equal(column.get(ref('card-api'))?.deployed?.actor, 'ana');
      assert.equal(column.has('group:default/ledger'), false, 'a team has no deploy column');
    });

    it('the filter: services with a deploy started in the window, optionally to one environment', async () => {
      assert.deepEqual([...(await svc.changedServices('24h'))].sort(), [ref('card-api'), ref('feed')]);
      assert.deepEqual([...(await svc.changedServices('24h', 'prod'))], [ref('card-api')]);
      assert.deepEqual([...(await svc.changedServices('2d', 'staging'))].sort(), [
        ref('card-api'),
        ref('feed'),
      ]);
      assert.deepEqual([...(await svc.changedServices('30m'))], []);
      await assert.rejects(svc.changedServices('soon'), /changed "soon" must be a duration/);
      await assert.rejects(
        svc.changedServices('24h', 'qa'),
        /changedEnv "qa" is not a configured environment/,
      );
    });

    it('desired vs deployed per environment from the same store (no cluster watched)', async () => {
      const c = await svc.compare('card-api');
      assert.equal(c.liveConfigured, false);
      assert.deepEqual(
        c.environments.map((e) => [
          e.environment,
          e.desired?.image,
          e.deployed?.version ?? null,
          e.live,
          e.mismatches.length,
        ]),
        [
          ['staging', 'card-api:1.1.0', '1.1.0', null, 0],
          ['prod', 'card-api:1.1.0', '1.0.0', null, 0],
        ],
        'the deploys carry no image: nothing to compare, no mismatch claimed',
      );
    });

    it('a page of 250 services (more than one batch) answers in the order asked', async () => {
      const refs = Array.from({ length: 250 }, (_, i) => (i % 2 ? ref('card-api') : ref('ledger')));
      const column = await svc.catalogueColumn(refs);
      assert.equal(column.get(ref('card-api'))?.deployed?.version, '1.0.0');
      const keys = refs.flatMap((service) => [{ service, environment: 'prod' }]);
      const newest = await svc.deploys.newestOf(keys);
      assert.equal(newest.length, 250);
      assert.deepEqual(
        [newest[0]?.id, newest[1]?.id, newest[248]?.id, newest[249]?.id],
        [undefined, 'c3', undefined, 'c3'],
      );
    });
  });
}
