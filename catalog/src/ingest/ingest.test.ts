import assert from 'node:assert/strict';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { bankPolicyFor } from '../model/policy.ts';
import type { IngestStore } from '../store/memory.ts';
import { openDriver } from '../store/sql.ts';
import { CatalogConflictError, CatalogStore } from '../store/store.ts';
import { testDatabases } from '../testing/databases.ts';
import { component, ORG } from '../testing/estate.ts';
import { removeFile, writeTree } from '../testing/tree.ts';
import { Ingester } from './ingest.ts';

const baseTree = () =>
  writeTree({
    'org/catalog-info.yaml': ORG,
    'ledger/catalog-info.yaml': component('ledger', { tier: '1' }),
    'balance/catalog-info.yaml': component('balance', { dependsOn: ['component:ledger'] }),
    'account/catalog-info.yaml': component('account', {
      owner: 'accounts',
      dependsOn: ['component:ledger', 'component:balance'],
    }),
  });

for (const db of testDatabases()) {
  describe(`ingest on ${db.name}`, { skip: db.skip }, () => {
    const open = async () => {
      const store = await CatalogStore.open(await db.create());
      return { store, ingester: new Ingester(store) };
    };

    it('indexes a tree with relations in both directions, and a fresh ingester reads them back from the store', async () => {
      const dir = baseTree();
      const { store, ingester } = await open();
      const result = await ingester.ingest([dir]);
      assert.deepEqual(result.errors, []);
      assert.equal(result.counts.component, 3);
      assert.equal(result.counts.group, 4);
      assert.equal(result.counts.user, 1);
      const again = new Ingester(store);
      const snap = await again.snapshot();
      const balance = snap.relations.get('component:default/balance') ?? [];
      assert.ok(balance.some((r) => r.type === 'dependsOn' && r.targetRef === 'component:default/ledger'));
      assert.ok(
        balance.some((r) => r.type === 'dependencyOf' && r.targetRef === 'component:default/account'),
      );
      assert.ok(balance.some((r) => r.type === 'ownedBy' && r.targetRef === 'group:default/ledger'));
      const ledgerGroup = snap.relations.get('group:default/ledger') ?? [];
      assert.ok(ledgerGroup.some((r) => r.type === 'ownerOf' && r.targetRef === 'component:default/balance'));
      assert.ok(ledgerGroup.some((r) => r.type === 'hasMember' && r.targetRef === 'user:default/jane.doe'));
      assert.ok(
        ledgerGroup.some((r) => r.type === 'childOf' && r.targetRef === 'group:default/core-banking'),
      );
      await store.close();
    });

    it('reads back exactly the relations it wrote, in both directions, after a dependency is dropped', async () => {
      const dir = baseTree();
      const { store, ingester } = await open();
      await ingester.ingest([dir]);
      const sorted = (m: Map<string, unknown>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1));
      assert.deepEqual(
        sorted((await new Ingester(store).snapshot()).relations),
        sorted((await ingester.snapshot()).relations),
      );
      writeFileSync(
        path.join(dir, 'account/catalog-info.yaml'),
        component('account', { owner: 'accounts', dependsOn: ['component:ledger'] }),
      );
      await ingester.ingest([dir]);
      const reread = (await new Ingester(store).snapshot()).relations;
      assert.deepEqual(sorted(reread), sorted((await ingester.snapshot()).relations));
      const balance = reread.get('component:default/balance') ?? [];
      assert.ok(!balance.some((r) => r.type === 'dependencyOf'), 'nothing depends on balance any more');
      // Updated around the edit, the relations are what a fresh ingest of the same tree computes.
      const fresh = await open();
      await fresh.ingester.ingest([dir]);
      assert.deepEqual(sorted(reread), sorted((await fresh.ingester.snapshot()).relations));
      await fresh.store.close();
      assert.ok(balance.some((r) => r.type === 'dependsOn' && r.targetRef === 'component:default/ledger'));
      await store.close();
    });

    it('told which files changed (the watcher), reads only those: edits, additions and deletions', async () => {
      const dir = baseTree();
      const { store, ingester } = await open();
      await ingester.ingest([dir]);
      const file = (rel: string) => path.join(dir, rel);
      writeFileSync(file('balance/catalog-info.yaml'), component('balance', { tier: '1' }));
      writeTree(
        {
          'cards/catalog-info.yaml': component('cards', { dependsOn: ['component:balance'] }),
          'cards/k8s/catalog-info.yaml': component('not-a-descriptor-folder'),
        },
        dir,
      );
      removeFile(dir, 'account/catalog-info.yaml');
      // Edited but not reported: taken as it was, until a full ingest reads it.
      writeFileSync(file('ledger/catalog-info.yaml'), component('ledger', { tier: '3' }));
      const r = await ingester.ingest([dir], {
        changed: ['balance', 'cards', 'cards/k8s', 'account'].map((d) => file(`${d}/catalog-info.yaml`)),
      });
      assert.deepEqual(r.errors, []);
      assert.equal(r.files.changed, 2, 'balance and cards read; nothing else');
      assert.deepEqual(r.removed, ['component:default/account']);
      assert.deepEqual(r.upserted.sort(), ['component:default/balance', 'component:default/cards']);
      const snap = await ingester.snapshot();
      const tier = (ref: string) => snap.entities.get(ref)?.entity.metadata.annotations?.['bank.io/tier'];
      assert.equal(tier('component:default/balance'), '1');
      assert.equal(tier('component:default/ledger'), '1', 'the unreported edit is not read');
      assert.ok(
        (snap.relations.get('component:default/balance') ?? []).some(
          (x) => x.type === 'dependencyOf' && x.targetRef === 'component:default/cards',
        ),
      );
      // Updated around the additions and the deletion, relations are what a fresh ingest computes.
      const sorted = (m: Map<string, unknown>) => [...m].sort(([a], [b]) => (a < b ? -1 : 1));
      const full = await ingester.ingest([dir]);
      assert.deepEqual(full.upserted, ['component:default/ledger']);
      const fresh = await open();
      await fresh.ingester.ingest([dir]);
      assert.deepEqual(
        sorted((await ingester.snapshot()).relations),
        sorted((await fresh.ingester.snapshot()).relations),
      );
      await fresh.store.close();
      const after = (await ingester.snapshot()).entities.get('component:default/ledger');
      assert.equal(after?.entity.metadata.annotations?.['bank.io/tier'], '3');
      await store.close();
    });

    it('skips unchanged files by hash and writes only what changed', async () => {
      const dir = baseTree();
      const { store, ingester } = await open();
      await ingester.ingest([dir]);
      const second = await ingester.ingest([dir]);
      assert.equal(second.files.changed, 0);
      assert.equal(second.upserted.length, 0);
      writeFileSync(
        path.join(dir, 'balance/catalog-info.yaml'),
        component('balance', { dependsOn: ['component:ledger'], tier: '1' }),
      );
      const third = await ingester.ingest([dir]);
      assert.equal(third.files.changed, 1);
      assert.deepEqual(third.upserted, ['component:default/balance']);
      const snap = await new Ingester(store).snapshot();
      assert.equal(
        snap.entities.get('component:default/balance')?.entity.metadata.annotations?.['bank.io/tier'],
        '1',
      );
      await store.close();
    });

    it('under the bank policy, keeps the last good version, marked stale, when a file turns bad; fixing it clears the mark', async () => {
      const dir = baseTree();
      const store = await CatalogStore.open(await db.create());
      const ingester = new Ingester(store, { policies: bankPolicyFor([dir]) });
      await ingester.ingest([dir]);
      writeFileSync(path.join(dir, 'balance/catalog-info.yaml'), component('balance', { owner: 'nobody' }));
      const bad = await ingester.ingest([dir]);
      const err = bad.errors.find((e) => e.entityRef === 'component:default/balance');
      assert.ok(err, 'an error names the entity');
      assert.match(err.message, /owner "nobody" does not exist/);
      assert.equal(err.file, path.join(dir, 'balance/catalog-info.yaml'));
      assert.equal(err.line, 11);
      assert.deepEqual(bad.stale, ['component:default/balance']);
      let snap = await new Ingester(store, { policies: bankPolicyFor([dir]) }).snapshot();
      const kept = snap.entities.get('component:default/balance');
      assert.equal(kept?.stale, true);
      assert.equal(kept?.entity.spec?.owner, 'ledger', 'the last good version is what is served');
      writeFileSync(path.join(dir, 'balance/catalog-info.yaml'), component('balance', { owner: 'accounts' }));
      const fixed = await ingester.ingest([dir]);
      assert.deepEqual(fixed.errors, []);
      snap = await new Ingester(store).snapshot();
      assert.equal(snap.entities.get('component:default/balance')?.stale, false);
      assert.equal(snap.entities.get('component:default/balance')?.entity.spec?.owner, 'accounts');
      await store.close();
    });

    it('keeps entities of a file that becomes malformed YAML, and removes them when the file is deleted', async () => {
      const dir = baseTree();
      const { store, ingester } = await open();
      await ingester.ingest([dir]);
      writeFileSync(path.join(dir, 'ledger/catalog-info.yaml'), 'kind: Component\nmetadata: {name: ledger\n');
      const bad = await ingester.ingest([dir]);
      assert.ok(
        bad.errors.some(
          (e) => /Malformed YAML/.test(e.message) && e.file.endsWith('ledger/catalog-info.yaml'),
        ),
      );
      assert.ok(
        (await ingester.snapshot()).entities.has('component:default/ledger'),
        'ledger is still served',
      );
      removeFile(dir, 'ledger/catalog-info.yaml');
      const gone = await ingester.ingest([dir]);
      assert.ok(gone.removed.includes('component:default/ledger'));
      // balance and account depend on ledger: their ref errors are reported, they keep their last good version.
      assert.ok(
        gone.errors.some(
          (e) => e.entityRef === 'component:default/balance' && /component:ledger/.test(e.message),
        ),
      );
      await store.close();
    });

    it('reports the same entity defined in two files and keeps the first', async () => {
      const dir = baseTree();
      writeTree({ 'zz/catalog-info.yaml': component('ledger', { owner: 'accounts' }) }, dir);
      const { store, ingester } = await open();
      const r = await ingester.ingest([dir]);
      const dup = r.errors.find((e) => /already defined in/.test(e.message));
      assert.ok(dup);
      assert.ok(dup.file.endsWith('zz/catalog-info.yaml'));
      assert.equal(
        (await ingester.snapshot()).entities.get('component:default/ledger')?.entity.spec?.owner,
        'ledger',
      );
      await store.close();
    });

    it('refuses Locations outside the tree, through symlinks, and in cycles, and still ingests the rest', async () => {
      const outside = writeTree({ 'catalog-info.yaml': component('evil') });
      const dir = baseTree();
      symlinkSync(outside, path.join(dir, 'link'));
      writeTree(
        {
          'loc/catalog-info.yaml': [
            'apiVersion: backstage.io/v1alpha1',
            'kind: Location',
            'metadata: {name: roots}',
            'spec:',
            '  targets:',
            `    - ../../${path.basename(outside)}/catalog-info.yaml`,
            '    - ../link/catalog-info.yaml',
            '    - ./other.yaml',
            '',
          ].join('\n'),
          'loc/other.yaml':
            'apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: back}\nspec:\n  target: ./catalog-info.yaml\n',
        },
        dir,
      );
      const { store, ingester } = await open();
      const r = await ingester.ingest([dir]);
      const messages = r.errors.map((e) => `${path.basename(e.file)}:${e.line}:${e.column} ${e.message}`);
      assert.ok(
        messages.some((m) => /catalog-info.yaml:6:7 .*outside the catalogue tree/.test(m)),
        messages.join('\n'),
      );
      assert.ok(
        messages.some((m) => /catalog-info.yaml:7:7 .*symlink.*outside/.test(m)),
        messages.join('\n'),
      );
      assert.ok(
        messages.some((m) => /other.yaml:5:11 .*cycle/.test(m)),
        messages.join('\n'),
      );
      assert.equal(r.counts.component, 3);
      assert.ok(!(await ingester.snapshot()).entities.has('component:default/evil'));
      await store.close();
    });

    it('reads a locations file given as the root: its targets beside and below it, nothing above it', async () => {
      const outside = writeTree({ 'catalog-info.yaml': component('evil') });
      const dir = writeTree({
        'org.yaml': ORG,
        'components/ledger/catalog-info.yaml': component('ledger'),
        'components/balance/catalog-info.yaml': component('balance', { dependsOn: ['component:ledger'] }),
        'locations.yaml': [
          'apiVersion: backstage.io/v1alpha1',
          'kind: Location',
          'metadata: {name: bench-catalog}',
          'spec:',
          '  type: file',
          '  targets:',
          '    - ./org.yaml',
          '    - ./components/ledger/catalog-info.yaml',
          '    - ./components/balance/catalog-info.yaml',
          `    - ../${path.basename(outside)}/catalog-info.yaml`,
          '',
        ].join('\n'),
      });
      const { store, ingester } = await open();
      const r = await ingester.ingest([path.join(dir, 'locations.yaml')]);
      const everything = [...(await ingester.snapshot()).entities.keys()].sort();
      assert.equal(r.counts.component, 2);
      assert.equal(r.counts.group, 4);
      assert.deepEqual(
        r.errors.map((e) => `${path.basename(e.file)}:${e.line}:${e.column}`),
        ['locations.yaml:10:7'],
      );
      assert.match(r.errors[0].message, /outside the catalogue tree/);

      // A target dropped from the Location stays, marked orphan as Backstage marks it; listed again, it is
      // no longer orphan. A Location whose file turns bad keeps its own.
      const locations = path.join(dir, 'locations.yaml');
      const text = readFileSync(locations, 'utf8');
      writeFileSync(locations, text.replace('    - ./components/balance/catalog-info.yaml\n', ''));
      const dropped = await ingester.ingest([locations]);
      assert.deepEqual(dropped.removed, []);
      assert.deepEqual(dropped.orphaned, ['component:default/balance']);
      const orphan = (await ingester.snapshot()).entities.get('component:default/balance');
      assert.equal(orphan?.entity.metadata.annotations?.['backstage.io/orphan'], 'true');
      writeFileSync(locations, text);
      const back = await ingester.ingest([locations]);
      assert.deepEqual(back.orphaned, []);
      const listed = (await ingester.snapshot()).entities.get('component:default/balance');
      assert.equal(listed?.entity.metadata.annotations?.['backstage.io/orphan'], undefined);
      writeFileSync(locations, text.replace('    - ./components/balance/catalog-info.yaml\n', ''));
      await ingester.ingest([locations]);
      assert.deepEqual([...(await ingester.snapshot()).entities.keys()].sort(), everything, 'nothing lost');
      writeFileSync(locations, `${text}\n  bad: [unclosed\n`);
      const broken = await ingester.ingest([locations]);
      assert.ok(broken.errors.some((e) => e.file.endsWith('locations.yaml')));
      assert.deepEqual(broken.removed, []);
      assert.equal(
        broken.counts.component,
        2,
        'the last good Location still holds ledger; balance is an orphan',
      );
      await store.close();
    });

    it('two writers on one store (two portals, or a portal and `portal ingest`): each takes in what the other wrote, nothing is lost', async () => {
      const url = await db.create();
      const core = writeTree({
        'org/catalog-info.yaml': ORG,
        'ledger/catalog-info.yaml': component('ledger', { tier: '1' }),
      });
      const cards = writeTree({
        'card-api/catalog-info.yaml': component('card-api', { dependsOn: ['component:ledger'] }),
      });
      const storeA = await CatalogStore.open(url);
      const storeB = await CatalogStore.open(url);
      const a = new Ingester(storeA);
      const b = new Ingester(storeB);
      await b.snapshot(); // B has read the store while it was empty

      const first = await a.ingest([core]);
      assert.equal(first.reloaded, false);
      // B is behind: it takes in A's write before ingesting (from the change log), so card-api's dependency on
      // A's ledger resolves, and its result lists A's entities too (for its graph).
      const second = await b.ingest([cards]);
      assert.equal(second.reloaded, false, 'only what A changed was read');
      assert.ok(second.upserted.includes('component:default/ledger'));
      assert.deepEqual(second.errors, []);
      assert.equal(second.counts.component, 2);

      // A follows B's write when it looks; a second look finds nothing new.
      assert.equal((await a.refresh())?.full, false, 'only what B changed is read');
      const ledger = (await a.snapshot()).relations.get('component:default/ledger') ?? [];
      assert.ok(
        ledger.some((r) => r.type === 'dependencyOf' && r.targetRef === 'component:default/card-api'),
      );
      assert.equal(await a.refresh(), undefined);

      // A write made from an old read is refused and changes nothing.
      const generation = await storeA.generation();
      const nothing = { upsert: [], relations: new Map(), files: [], removeFiles: [], errors: [] };
      await assert.rejects(
        storeA.write({ ...nothing, remove: ['component:default/ledger'] }, generation - 1),
        CatalogConflictError,
      );
      assert.equal(await storeA.generation(), generation);
      assert.ok((await new Ingester(storeA).snapshot()).entities.has('component:default/ledger'));

      // A races B between reading and writing: B's write is refused, B reads again and redoes its ingest.
      writeFileSync(path.join(cards, 'card-api/catalog-info.yaml'), component('card-api', { tier: '1' }));
      writeFileSync(path.join(core, 'ledger/catalog-info.yaml'), component('ledger', { tier: '2' }));
      let raced = false;
      const racing: IngestStore = {
        load: () => storeB.load(),
        generation: () => storeB.generation(),
        changesSince: (since) => storeB.changesSince(since),
        write: async (w, expected) => {
          if (!raced) {
            raced = true;
            await a.ingest([core]);
          }
          return storeB.write(w, expected);
        },
      };
      const c = new Ingester(racing);
      await c.snapshot();
      const third = await c.ingest([cards]);
      assert.ok(raced);
      assert.ok(third.upserted.includes('component:default/ledger'), "A's racing edit is in the result");
      const all = (await new Ingester(await CatalogStore.open(url)).snapshot()).entities;
      const tier = (ref: string) => all.get(ref)?.entity.metadata.annotations?.['bank.io/tier'];
      assert.equal(tier('component:default/card-api'), '1', "B's edit is in the store");
      assert.equal(tier('component:default/ledger'), '2', "A's edit is in the store, not undone by B");
      await Promise.all([storeA.close(), storeB.close()]);
    });

    it('a follower takes in only what another writer changed, and ends where a fresh read of the store does', async () => {
      const url = await db.create();
      const names = ['ledger', 'balance', 'account', 'cards', 'feed', 'payments', 'fraud', 'kyc'];
      const files: Record<string, string> = { 'org/catalog-info.yaml': ORG };
      for (const n of names) files[`${n}/catalog-info.yaml`] = component(n);
      const dir = writeTree(files);
      const writerStore = await CatalogStore.open(url);
      const followerStore = await CatalogStore.open(url);
      const writer = new Ingester(writerStore);
      const follower = new Ingester(followerStore);
      await writer.ingest([dir]);
      assert.equal((await follower.refresh()) ?? 'nothing to take in', 'nothing to take in');
      await follower.snapshot();

      // Deterministic pseudo-random edits: dependencies, owners, added and removed services, broken files.
      let seed = 7;
      const rand = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed % n;
      };
      const present = new Set(names);
      const comparable = async (ingester: Ingester) => {
        const snap = await ingester.snapshot();
        const entities = [...snap.entities.values()]
          .map((e) => `${e.ref} ${e.stale} ${JSON.stringify(e.entity)}`)
          .sort();
        const relations = [...snap.relations]
          .filter(([, list]) => list.length > 0)
          .map(([ref, list]) => `${ref} ${list.map((r) => `${r.type}>${r.targetRef}`).join(',')}`)
          .sort();
        return { entities, relations };
      };
      for (let step = 0; step < 12; step++) {
        for (let edits = 1 + rand(3); edits > 0; edits--) {
          const n = `svc-${rand(12)}`;
          const target = [...present][rand(present.size)];
          const action = rand(4);
          if (action === 0 || !present.has(n)) {
            const deps = [...present].filter(() => rand(3) === 0).map((d) => `component:${d}`);
            writeTree(
              {
                [`${n}/catalog-info.yaml`]: component(n, {
                  dependsOn: deps,
                  owner: rand(2) ? 'ledger' : 'accounts',
                }),
              },
              dir,
            );
            present.add(n);
          } else if (action === 1) {
            removeFile(dir, `${n}/catalog-info.yaml`);
            present.delete(n);
          } else if (action === 2) {
            writeTree(
              { [`${target}/catalog-info.yaml`]: component(target, { dependsOn: [`component:${n}`] }) },
              dir,
            );
          } else {
            writeTree({ [`${target}/catalog-info.yaml`]: `${component(target)}  bad: [unclosed\n` }, dir);
          }
        }
        await writer.ingest([dir]);
        const r = await follower.refresh();
        assert.ok(r, `step ${step}: the follower sees the write`);
        assert.equal(r.full, false, `step ${step}: only the changes are read`);
        const fresh = await comparable(new Ingester(await CatalogStore.open(url)));
        assert.deepEqual(await comparable(follower), fresh, `step ${step}`);
        assert.deepEqual(await comparable(writer), fresh, `step ${step}: the writer agrees`);
      }

      // A write too big to list (over 5,000 keys) is logged as `all`: the follower reads everything.
      const many: Record<string, string> = {};
      for (let i = 0; i < 1_700; i++) many[`bulk/svc-${i}/catalog-info.yaml`] = component(`bulk-${i}`);
      writeTree(many, dir);
      await writer.ingest([dir]);
      assert.equal((await follower.refresh())?.full, true);
      assert.deepEqual(await comparable(follower), await comparable(writer));

      // Without the change log (pruned, or written by an older portal) it reads everything, and still agrees.
      writeTree({ 'ledger/catalog-info.yaml': component('ledger', { tier: '4' }) }, dir);
      await writer.ingest([dir]);
      const raw = openDriver(url);
      await raw.exec('DELETE FROM "CatalogChange"');
      await raw.close();
      const r = await follower.refresh();
      assert.equal(r?.full, true);
      assert.deepEqual(await comparable(follower), await comparable(writer));
      await Promise.all([writerStore.close(), followerStore.close()]);
    });
  });
}

describe("the bank's estate (services/)", () => {
  it('ingests with zero errors: 350 services, 9 collectives, 37 squads, every canonical chain edge', async () => {
    const { fileURLToPath } = await import('node:url');
    const services = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'services');
    const store = await CatalogStore.open(await testDatabases()[0].create());
    const ingester = new Ingester(store);
    const r = await ingester.ingest([services]);
    assert.deepEqual(r.errors, []);
    // 350 estate services plus the shared rpc library.
    assert.equal(r.counts.component, 351);
    const { entities, relations } = await ingester.snapshot();
    const groups = [...entities.values()].filter((e) => e.entity.kind === 'Group');
    assert.equal(groups.filter((g) => g.entity.spec?.type === 'collective').length, 9);
    assert.equal(groups.filter((g) => g.entity.spec?.type === 'squad').length, 37);
    // The talk's chain: each hop is a declared call (dependsOn, or consumesApi of the callee's API).
    const chain = [
      'api',
      'card-api',
      'card-processing',
      'cards',
      'transactions',
      'balance',
      'transaction-enrichment',
      'merchant',
      'feed-generator',
      'feed',
      'apns',
    ];
    for (let i = 0; i + 1 < chain.length; i++) {
      const rels = relations.get(`component:default/${chain[i]}`) ?? [];
      const direct = rels.some(
        (x) => x.type === 'dependsOn' && x.targetRef === `component:default/${chain[i + 1]}`,
      );
      const viaApi = rels.some(
        (x) =>
          x.type === 'consumesApi' &&
          (relations.get(x.targetRef) ?? []).some(
            (y) => y.type === 'apiProvidedBy' && y.targetRef === `component:default/${chain[i + 1]}`,
          ),
      );
      assert.ok(direct || viaApi, `${chain[i]} → ${chain[i + 1]} is a declared call`);
    }
    await store.close();
  });
});
