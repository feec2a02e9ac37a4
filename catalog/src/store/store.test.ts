import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { testDatabases } from '../testing/databases.ts';
import { openDriver } from './sql.ts';
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

    it('finds tokens by hash only while neither revoked nor expired; lists them without secrets', async () => {
      const store = await CatalogStore.open(await db.create());
      await store.addToken({
        id: 't1',
        name: 'ci',
        hash: 'h1',
        createdBy: 'user:default/jane.doe',
        scopes: ['deploys:write', 'traces:write'],
        expiresAt: new Date(Date.now() + 3600_000),
      });
      await store.addToken({
        id: 't2',
        name: 'old',
        hash: 'h2',
        createdBy: 'cli:ops',
        scopes: ['admin'],
        expiresAt: new Date(Date.now() - 1000),
      });
      const found = await store.tokenByHash('h1');
      assert.equal(found?.name, 'ci');
      assert.deepEqual(found?.scopes, ['deploys:write', 'traces:write']);
      assert.equal(await store.tokenByHash('h2'), undefined, 'an expired token is refused');
      assert.equal(await store.tokenByHash('nope'), undefined);
      assert.deepEqual(
        (await store.revokeToken('ci')).map((t) => t.id),
        ['t1'],
      );
      assert.equal(await store.tokenByHash('h1'), undefined, 'a revoked token is refused');
      assert.deepEqual(await store.revokeToken('ci'), [], 'revoking twice revokes nothing');
      const listed = await store.tokens();
      assert.deepEqual(listed.map((t) => t.name).sort(), ['ci', 'old']);
      assert.ok(listed.find((t) => t.id === 't1')?.revokedAt);
      assert.ok(!JSON.stringify(listed).includes('h1'), 'the hash is never listed');
      await store.close();
    });

    it('keeps sessions until they expire or are revoked', async () => {
      const store = await CatalogStore.open(await db.create());
      const session = (id: string, hours: number) => ({
        id,
        userRef: 'user:default/jane.doe',
        via: 'dev' as const,
        expiresAt: new Date(Date.now() + hours * 3600_000).toISOString(),
        client: '127.0.0.1',
        userAgent: 'test',
      });
      await store.addSession(session('s1', 1));
      await store.addSession(session('s2', 1));
      await store.addSession(session('gone', -1));
      assert.equal((await store.liveSession('s1'))?.userRef, 'user:default/jane.doe');
      assert.equal(await store.liveSession('gone'), undefined, 'expired');
      assert.equal(await store.liveSession('forged'), undefined);
      assert.equal(await store.revokeSessions({ id: 's1' }), 1);
      assert.equal(await store.liveSession('s1'), undefined, 'revoked');
      assert.equal(
        await store.revokeSessions({ userRef: 'user:default/jane.doe' }),
        2,
        's2 and the expired one: s1 was revoked already',
      );
      assert.equal(await store.liveSession('s2'), undefined);
      await store.close();
    });

    it('chains audit rows: verify passes, then names the first edited or removed row', async () => {
      const url = await db.create();
      const store = await CatalogStore.open(url);
      for (let i = 0; i < 5; i++)
        await store.audit(
          'token:ci',
          'deploys.write',
          `component:default/s${i}`,
          { i },
          {
            outcome: i === 2 ? 'denied' : 'allowed',
            client: '10.0.0.7',
            userAgent: 'curl/8',
          },
        );
      const rows = (await store.auditLog(10)).reverse();
      assert.equal(rows[0].prevHash, '');
      assert.equal(rows[1].prevHash, rows[0].hash);
      assert.deepEqual(
        [rows[2].outcome, rows[2].client, rows[2].userAgent],
        ['denied', '10.0.0.7', 'curl/8'],
      );
      assert.deepEqual(await store.verifyAudit(), { ok: true, checked: 5, unchained: 0 });
      const raw = openDriver(url);
      await raw.exec(
        `UPDATE "AuditEvent" SET "target" = 'component:default/other' WHERE "id" = ${rows[3].id}`,
      );
      const edited = await store.verifyAudit();
      assert.equal(edited.ok, false);
      if (!edited.ok) {
        assert.equal(edited.broken.id, rows[3].id);
        assert.match(edited.reason, /content does not match its hash/);
        assert.equal(edited.checked, 3);
      }
      await raw.exec(`DELETE FROM "AuditEvent" WHERE "id" = ${rows[3].id}`);
      const removed = await store.verifyAudit();
      assert.equal(removed.ok, false);
      if (!removed.ok) {
        assert.equal(removed.broken.id, rows[4].id, 'the row after the removed one no longer links');
        assert.match(removed.reason, /prevHash/);
      }
      await raw.close();
      await store.close();
    });

    it('keeps the chain whole when two stores append at once (two portals on one database)', async () => {
      const url = await db.create();
      const a = await CatalogStore.open(url);
      const b = await CatalogStore.open(url);
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          (i % 2 ? a : b).audit(`token:t${i % 2}`, 'traces.write', `n${i}`),
        ),
      );
      const verdict = await a.verifyAudit();
      assert.deepEqual(verdict, { ok: true, checked: 40, unchained: 0 });
      assert.equal(new Set((await a.auditLog(100)).map((r) => r.target)).size, 40, 'no append was lost');
      await a.close();
      await b.close();
    });
  });
}

describe('audit chain (property): any single edit of any stored row is found at that row', () => {
  it('holds for random logs and random edits', async () => {
    const db = testDatabases()[0];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ actor: fc.string(), target: fc.string(), detail: fc.option(fc.string()) }), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.nat(),
        fc.constantFrom('actor', 'target', 'details', 'outcome', 'client', 'at'),
        async (entries, pick, column) => {
          const url = await db.create();
          const store = await CatalogStore.open(url);
          for (const e of entries)
            await store.audit(e.actor, 'catalog.entity.refresh', e.target, e.detail ?? undefined);
          assert.equal((await store.verifyAudit()).ok, true);
          const rows = (await store.auditLog(100)).reverse();
          const victim = rows[pick % rows.length];
          const raw = openDriver(url);
          const value =
            column === 'at' ? "'2001-01-01 00:00:00'" : column === 'outcome' ? "'allowed-ish'" : "'tampered'";
          await raw.exec(`UPDATE "AuditEvent" SET "${column}" = ${value} WHERE "id" = ${victim.id}`);
          await raw.close();
          const verdict = await store.verifyAudit();
          await store.close();
          assert.equal(verdict.ok, false);
          if (!verdict.ok) assert.equal(verdict.broken.id, victim.id);
        },
      ),
      { numRuns: 15 },
    );
  });
});

for (const db of testDatabases()) {
  describe(`audit group commit (property) on ${db.name}`, { skip: db.skip }, () => {
    it('bursts of concurrent appends from one or two stores: every append stored once, in one whole chain', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 1, max: 150 }), { minLength: 1, maxLength: 4 }),
          fc.boolean(),
          async (bursts, twoStores) => {
            const url = await db.create();
            const a = await CatalogStore.open(url);
            const b = twoStores ? await CatalogStore.open(url) : a;
            let n = 0;
            const returned: { id?: number; target: string }[] = [];
            for (const size of bursts) {
              // One burst: all appended at once, as concurrent requests do (batches form while one is written).
              const burst = Array.from({ length: size }, () => {
                const i = n++;
                return (i % 2 ? b : a).audit('token:ci', 'deploys.record', `t${i}`, { i });
              });
              returned.push(...(await Promise.all(burst)));
            }
            const verdict = await a.verifyAudit();
            const stored = await a.auditLog(1000);
            await a.close();
            if (b !== a) await b.close();
            assert.deepEqual(verdict, { ok: true, checked: n, unchained: 0 });
            assert.equal(stored.length, n);
            assert.equal(new Set(stored.map((r) => r.target)).size, n, 'no append lost or stored twice');
            // Each caller got its own stored row back (id and content).
            const byId = new Map(stored.map((r) => [r.id, r.target]));
            for (const r of returned) assert.equal(byId.get(r.id), r.target);
          },
        ),
        { numRuns: 8 },
      );
    });
  });
}
