import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { testDatabases } from '@bank/catalog/testing';
import { buildGraphIndex } from '@bank/graph';
import { smallEstate } from '@bank/graph/testing';
import { ConflictError, InputError, NotFoundError } from '@bank/plugin-kit';
import { DeploysService } from './service.ts';

const NOW = Date.parse('2026-12-04T12:00:00Z');
const at = (minutesAgo: number) => new Date(NOW - minutesAgo * 60_000).toISOString();

const event = (over: Record<string, unknown> = {}) => ({
  id: 'run-1',
  service: 'card-api',
  environment: 'prod',
  version: '1.4.0',
  image: 'registry.bank.example/card-api@sha256:abc',
  commit: '9f1c2d3',
  actor: 'ana',
  status: 'succeeded',
  startedAt: at(30),
  finishedAt: at(25),
  ...over,
});

for (const db of testDatabases()) {
  describe(`deploys on ${db.name}`, { skip: db.skip }, () => {
    let store: CatalogStore;
    let svc: DeploysService;
    const index = buildGraphIndex(smallEstate());
    const fresh = async () => {
      store = await CatalogStore.open(await db.create());
      svc = await new DeploysService({ store, getIndex: () => index, now: () => NOW, skewMs: 60_000 }).init();
    };
    before(fresh);
    after(async () => store.close());

    it('records an event under the canonical ref, keeps extra fields as labels, and lists it', async () => {
      const r = await svc.record(event({ pipeline: 'github-actions', run: 42 }), 'token:ci');
      assert.equal(r.outcome, 'created');
      assert.equal(r.deploy.service, 'component:default/card-api');
      assert.deepEqual(r.deploy.labels, { pipeline: 'github-actions', run: 42 });
      assert.equal(r.deploy.recordedBy, 'token:ci');
      const { deploys } = await svc.list({ service: 'card-api' });
      assert.deepEqual(
        deploys.map((d) => [d.id, d.version, d.status]),
        [['run-1', '1.4.0', 'succeeded']],
      );
    });

    it('a replayed event gives the same answer and is stored once', async () => {
      const again = await svc.record(event({ pipeline: 'github-actions', run: 42 }), 'token:ci');
      assert.equal(again.outcome, 'replayed');
      assert.equal(again.deploy.id, 'run-1');
      assert.equal((await svc.list({ service: 'card-api' })).deploys.length, 1);
      assert.equal(await svc.deploys.count(), 1);
    });

    it('started then succeeded moves one deploy on; a late started changes nothing', async () => {
      const s = await svc.record(
        event({ id: 'run-2', version: '1.5.0', status: 'started', startedAt: at(10), finishedAt: undefined }),
        'token:ci',
      );
      assert.equal(s.outcome, 'created');
      assert.equal(
        (await svc.state('card-api')).environments.find((e) => e.environment === 'prod')?.running?.version,
        '1.4.0',
      );
      const done = await svc.record(
        event({ id: 'run-2', version: '1.5.0', status: 'succeeded', startedAt: at(10), finishedAt: at(5) }),
        'token:ci',
      );
      assert.equal(done.outcome, 'updated');
      assert.equal(done.deploy.finishedAt, at(5));
      const late = await svc.record(
        event({ id: 'run-2', version: '1.5.0', status: 'started', startedAt: at(10), finishedAt: undefined }),
        'token:ci',
      );
      assert.equal(late.outcome, 'late');
      assert.equal(late.deploy.status, 'succeeded');
      const prod = (await svc.state('card-api')).environments.find((e) => e.environment === 'prod');
      assert.equal(prod?.running?.version, '1.5.0');
    });

    it('out-of-order events are placed by when they happened, not when they arrived', async () => {
      // An old staging deploy arrives after a newer one: the newer stays the running version.
      await svc.record(
        event({
          id: 'stg-new',
          environment: 'staging',
          version: '1.6.0',
          startedAt: at(20),
          finishedAt: at(19),
        }),
        'token:ci',
      );
      await svc.record(
        event({
          id: 'stg-old',
          environment: 'staging',
          version: '1.3.0',
          startedAt: at(600),
          finishedAt: at(599),
        }),
        'token:ci',
      );
      const state = await svc.state('card-api');
      const staging = state.environments.find((e) => e.environment === 'staging');
      assert.equal(staging?.running?.version, '1.6.0');
      assert.deepEqual(
        state.recent.map((d) => d.id),
        ['run-2', 'stg-new', 'run-1', 'stg-old'],
      );
    });

    it('a failed deploy is the latest but not what runs', async () => {
      await svc.record(
        event({ id: 'run-3', version: '1.7.0', status: 'failed', startedAt: at(4), finishedAt: at(3) }),
        'token:ci',
      );
      const prod = (await svc.state('card-api')).environments.find((e) => e.environment === 'prod');
      assert.equal(prod?.latest?.status, 'failed');
      assert.equal(prod?.running?.version, '1.5.0');
    });

    it('an unknown service is a 404 with the closest names', async () => {
      await assert.rejects(
        svc.record(event({ id: 'x1', service: 'card-apu' }), 'token:ci'),
        (err: unknown) => {
          assert.ok(err instanceof NotFoundError);
          assert.match(err.message, /unknown ref 'card-apu' \(service\); closest: card-api/);
          assert.deepEqual(err.details?.suggestions, ['component:default/card-api']);
          return true;
        },
      );
    });

    it('an unknown environment is a 400 listing the configured ones', async () => {
      await assert.rejects(
        svc.record(event({ id: 'x2', environment: 'production' }), 'token:ci'),
        (err: unknown) => {
          assert.ok(err instanceof InputError);
          assert.match(
            err.message,
            /environment "production" is not a configured environment; configured: staging, prod/,
          );
          return true;
        },
      );
    });

    it('finished before started, times in the future beyond the skew, bad fields: 400 naming each problem', async () => {
      await assert.rejects(
        svc.record(event({ id: 'x3', startedAt: at(5), finishedAt: at(10) }), 'token:ci'),
        /finishedAt .* is before startedAt/,
      );
      await assert.rejects(
        svc.record(event({ id: 'x4', startedAt: at(-5), finishedAt: at(-6) }), 'token:ci'),
        /startedAt .* is in the future .*allowed clock skew 60 s/,
      );
      // Within the skew allowance is fine (a CI runner's clock a little ahead).
      assert.equal(
        (await svc.record(event({ id: 'x5', startedAt: at(-0.5), finishedAt: at(-0.5) }), 'token:ci'))
          .outcome,
        'created',
      );
      await assert.rejects(
        svc.record(
          { id: 'x6', service: 'card-api', environment: 'prod', status: 'deployed', startedAt: 'yesterday' },
          't',
        ),
        (err: unknown) => {
          assert.ok(err instanceof InputError);
          assert.match(err.message, /version is required/);
          assert.match(
            err.message,
            /status "deployed" must be one of started, succeeded, failed, rolled_back/,
          );
          assert.match(err.message, /startedAt "yesterday" must be ISO 8601/);
          return true;
        },
      );
      assert.equal(await svc.deploys.get('x3'), undefined);
      assert.equal(await svc.deploys.get('x4'), undefined);
    });

    it('an id already used for another deploy is refused (409) and the stored one kept', async () => {
      await assert.rejects(
        svc.record(event({ id: 'run-1', version: '9.9.9' }), 'token:ci'),
        (err: unknown) => {
          assert.ok(err instanceof ConflictError);
          assert.match(err.message, /already recorded as component:default\/card-api 1\.4\.0 to prod/);
          return true;
        },
      );
      assert.equal((await svc.deploys.get('run-1'))?.version, '1.4.0');
    });

    it('lists by team, environment and since', async () => {
      await svc.record(
        event({ id: 'led-1', service: 'ledger', version: '3.0.0', startedAt: at(100), finishedAt: at(99) }),
        'token:ci',
      );
      assert.deepEqual(
        (await svc.list({ team: 'ledger' })).deploys.map((d) => d.id),
        ['led-1'],
      );
      assert.deepEqual(
        (await svc.list({ team: 'payments', env: 'staging' })).deploys.map((d) => d.id),
        ['stg-new', 'stg-old'],
      );
      assert.deepEqual(
        (await svc.list({ service: 'card-api', since: '15m' })).deploys.map((d) => d.id),
        ['x5', 'run-3', 'run-2'],
      );
      await assert.rejects(svc.list({ since: 'last week' }), /since "last week" must be a duration like 30m/);
      await assert.rejects(svc.list({ env: 'qa' }), /env "qa" is not a configured environment/);
    });

    it('the change timeline of a call path flags the hops that changed, with the last deploy per environment', async () => {
      const t = await svc.changes({ from: 'card-api', to: 'feed', since: '2h' });
      assert.equal(t.scope.kind, 'path');
      const byName = new Map(t.services.map((s) => [s.name, s]));
      assert.ok(byName.has('card-processing') && byName.has('feed'));
      assert.equal(byName.get('card-api')?.changed, true);
      assert.equal(byName.get('card-api')?.last.prod?.id, 'x5');
      assert.equal(byName.get('card-api')?.last.staging?.version, '1.6.0');
      assert.equal(byName.get('feed')?.changed, false);
      assert.equal(byName.get('feed')?.last.prod, null);
      assert.ok(t.deploys.every((d) => d.service === 'component:default/card-api'));
      // A window before the ledger deploy: ledger is on the impact of ledger, unchanged in 1h.
      const blast = await svc.changes({ impact: 'ledger', since: '1h' });
      assert.ok(blast.services.some((s) => s.name === 'card-api' && s.changed));
      assert.equal(blast.services.find((s) => s.name === 'ledger')?.changed, false);
      const team = await svc.changes({ collective: 'core-banking', since: '2h' });
      assert.deepEqual(
        team.services.filter((s) => s.changed).map((s) => s.name),
        ['ledger'],
      );
      await assert.rejects(svc.changes({ from: 'card-api', since: '2h' }), /a path needs both from and to/);
      await assert.rejects(svc.changes({ from: 'card-api', to: 'fed' }), /unknown ref 'fed'/);
      await assert.rejects(svc.changes({}), /say what to look at/);
    });

    it('demo history is loaded only into an empty store and dropped when the first real event arrives', async () => {
      await fresh();
      const demo = [
        {
          ...event({ id: 'demo-1' }),
          service: 'component:default/ledger',
          startedAtMs: NOW - 3_600_000,
          finishedAtMs: NOW - 3_500_000,
          status: 'succeeded' as const,
          environment: 'prod',
          image: null,
          commit: null,
          actor: 'demo',
          labels: null,
        },
      ];
      assert.equal(await svc.loadDemo(demo as never), 1);
      assert.equal((await svc.state('ledger')).demo, true);
      assert.equal(await svc.loadDemo(demo as never), 0, 'a store with deploys gets no more demo');
      const r = await svc.record(event({ id: 'real-1' }), 'token:ci');
      assert.equal(r.droppedDemo, 1);
      assert.equal(await svc.deploys.get('demo-1'), undefined);
      assert.equal((await svc.state('ledger')).recent.length, 0);
      assert.equal((await svc.state('card-api')).demo, false);
      const audit = await store.auditLog(5);
      assert.ok(audit.some((a) => a.action === 'deploys.drop-demo'));
      assert.ok(
        audit.some((a) => a.action === 'deploys.record' && a.target === 'component:default/card-api'),
      );
    });
  });
}
