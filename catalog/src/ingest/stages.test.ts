/**
 * Each ingest stage alone, over a run started from a catalogue a real ingest read from real files (into a
 * real SQLite store for `commit`). The stages before `commit` write nothing: each test also checks that the
 * ingester's known catalogue is untouched.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { bankPolicyFor, type CatalogPolicies } from '../model/policy.ts';
import { CatalogConflictError, CatalogStore } from '../store/store.ts';
import { component, ORG } from '../testing/estate.ts';
import { writeTree } from '../testing/tree.ts';
import { Ingester } from './ingest.ts';
import {
  checkReferences,
  claimLocations,
  commit,
  diffRelations,
  discover,
  follow,
  type IngestRun,
  type KnownCatalogue,
  prepare,
  read,
  readFiles,
} from './stages.ts';

const tree = () =>
  realpathSync(
    writeTree({
      'org/catalog-info.yaml': ORG,
      'ledger/catalog-info.yaml': component('ledger'),
      'balance/catalog-info.yaml': component('balance', { dependsOn: ['component:ledger'] }),
    }),
  );

const sqlite = () => `file:${path.join(mkdtempSync(path.join(tmpdir(), 'stages-db-')), 'portal.db')}`;

/** The catalogue as a real ingest of `dir` left it, and the store it wrote. */
async function ingested(dir: string, policies?: CatalogPolicies) {
  const store = await CatalogStore.open(sqlite());
  const ingester = new Ingester(store, { policies });
  await ingester.ingest([dir]);
  const snap = await ingester.snapshot();
  const known: KnownCatalogue = { ...snap, files: await ingester.files() };
  const copy = () => JSON.stringify([[...known.entities.keys()], [...known.files.keys()], known.generation]);
  return { store, known, fingerprint: copy };
}

/** Backstage's rules everywhere (the bank's nowhere). */
const BACKSTAGE = bankPolicyFor([]);

const emptyCatalogue = (): KnownCatalogue => ({
  entities: new Map(),
  relations: new Map(),
  files: new Map(),
  generation: 0,
});

/** discover, then read → prepare → follow each file, then claim locations: what the later stages start from. */
async function readRun(known: KnownCatalogue, dir: string, policies = bankPolicyFor([dir])) {
  const run = await discover(known, [dir], {}, policies);
  await readFiles(run);
  return run;
}

describe('ingest stages, each alone', () => {
  it('discover: the descriptor files under a root; told what changed, the known files and the changed ones', async () => {
    const dir = tree();
    const run = await discover(emptyCatalogue(), [dir], {}, bankPolicyFor([dir]));
    assert.deepEqual(
      run.queue.map((q) => path.relative(dir, q.abs)),
      ['balance/catalog-info.yaml', 'ledger/catalog-info.yaml', 'org/catalog-info.yaml'],
    );
    assert.ok(run.queue.every((q) => q.confine === dir && q.via.length === 0));
    const { known, store } = await ingested(dir);
    writeTree({ 'cards/catalog-info.yaml': component('cards') }, dir);
    const told = await discover(
      known,
      [dir],
      { changed: [path.join(dir, 'cards/catalog-info.yaml')] },
      BACKSTAGE,
    );
    assert.deepEqual(told.queue.map((q) => path.relative(dir, q.abs)).sort(), [
      'balance/catalog-info.yaml',
      'cards/catalog-info.yaml',
      'ledger/catalog-info.yaml',
      'org/catalog-info.yaml',
    ]);
    await store.close();
  });

  it('read: an unchanged file is not parsed again, an edited one is, an unreadable one is an error', async () => {
    const dir = tree();
    const { known, store } = await ingested(dir);
    const run = await discover(known, [dir], {}, BACKSTAGE);
    const ledger = path.join(dir, 'ledger/catalog-info.yaml');
    assert.equal(read(run, ledger)?.unchanged, true);
    writeFileSync(ledger, component('ledger', { tier: '1' }));
    assert.equal(read(run, ledger)?.unchanged, false);
    const forced = await discover(known, [dir], { force: true }, BACKSTAGE);
    assert.equal(read(forced, path.join(dir, 'balance/catalog-info.yaml'))?.unchanged, false);
    rmSync(ledger);
    assert.equal(read(run, ledger), undefined);
    assert.match(run.errors[0].message, /^Cannot read file/);
    await store.close();
  });

  it('prepare: a ref defined in two files stays with the file the store had it from, the other is reported', async () => {
    const dir = tree();
    const { known, store, fingerprint } = await ingested(dir);
    const before = fingerprint();
    // "aa" comes first in path order, but ledger/ defined component:default/ledger before.
    writeTree({ 'aa/catalog-info.yaml': component('ledger', { owner: 'accounts' }) }, dir);
    const run = await readRun(known, dir);
    const c = run.candidates.get('component:default/ledger');
    assert.equal(c?.file, path.join(dir, 'ledger/catalog-info.yaml'));
    const dup = run.errors.find((e) => /already defined in/.test(e.message));
    assert.ok(dup?.file.endsWith('aa/catalog-info.yaml'));
    assert.match(dup?.message ?? '', /already defined in .*ledger\/catalog-info\.yaml:1/);
    assert.equal(fingerprint(), before, 'nothing known changed');
    await store.close();
  });

  it('prepare: an entity whose document turns invalid is kept at its last good version, stale', async () => {
    const dir = tree();
    const { known, store } = await ingested(dir);
    writeFileSync(path.join(dir, 'balance/catalog-info.yaml'), 'kind: Component\nmetadata: {name: balance\n');
    const run = await discover(known, [dir], {}, BACKSTAGE);
    const item = run.queue.find((q) => q.abs.endsWith('balance/catalog-info.yaml'));
    assert.ok(item);
    const file = read(run, item.abs);
    assert.ok(file);
    await prepare(run, item, file);
    const kept = run.candidates.get('component:default/balance');
    assert.equal(kept?.stored.stale, true);
    assert.equal(kept?.stored.entity.spec?.owner, 'ledger');
    assert.ok(run.errors.some((e) => /Malformed YAML/.test(e.message)));
    await store.close();
  });

  it('follow: a Location target is queued once; one leading back along the chain is a cycle, reported', async () => {
    const dir = realpathSync(
      writeTree({
        'catalog-info.yaml':
          'apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: top}\nspec: {targets: [./a.yaml]}\n',
        'a.yaml':
          'apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: a}\nspec: {targets: [./catalog-info.yaml]}\n',
      }),
    );
    const run = await discover(emptyCatalogue(), [dir], {}, BACKSTAGE);
    assert.equal(run.queue.length, 1);
    const top = run.queue[0];
    await follow(run, top, [{ target: './a.yaml', path: ['spec', 'targets', 0] }]);
    await follow(run, top, [{ target: './a.yaml', path: ['spec', 'targets', 0] }]);
    assert.deepEqual(
      run.queue.map((q) => path.basename(q.abs)),
      ['catalog-info.yaml', 'a.yaml'],
    );
    await follow(run, run.queue[1], [{ target: './catalog-info.yaml', path: ['spec', 'targets', 0] }]);
    assert.match(run.errors[0].message, /the locations form a cycle/);
    await follow(run, top, [{ target: '../elsewhere.yaml', path: ['spec', 'targets', 0] }]);
    assert.equal(run.errors.length, 2, 'a target outside the root is refused');
    assert.equal(run.queue.length, 2);
  });

  it('claim locations: nothing read and nothing gone changes nothing; a file no Location lists leaves, its entities orphaned', async () => {
    const dir = realpathSync(
      writeTree({
        'catalog-info.yaml':
          'apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: top}\nspec: {targets: [./org.yaml, ./ledger.yaml]}\n',
        'org.yaml': ORG,
        'ledger.yaml': component('ledger'),
      }),
    );
    const { known, store, fingerprint } = await ingested(dir, BACKSTAGE);
    const before = fingerprint();
    const same = await readRun(known, dir, BACKSTAGE);
    assert.equal(claimLocations(same), false, 'nothing to write');
    writeFileSync(
      path.join(dir, 'catalog-info.yaml'),
      'apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: top}\nspec: {targets: [./org.yaml]}\n',
    );
    const run = await readRun(known, dir, BACKSTAGE);
    assert.equal(claimLocations(run), true);
    assert.deepEqual(run.removedFiles, [path.join(dir, 'ledger.yaml')]);
    assert.deepEqual(run.orphanedNow, ['component:default/ledger']);
    const orphan = run.candidates.get('component:default/ledger')?.stored.entity;
    assert.equal(orphan?.metadata.annotations?.['backstage.io/orphan'], 'true');
    assert.equal(fingerprint(), before, 'nothing known changed');
    await store.close();
  });

  it('check references: under the bank policy a changed entity naming what is not there keeps its last good version; a new one is left out', async () => {
    const dir = tree();
    const policies = bankPolicyFor([dir]);
    const { known, store } = await ingested(dir, policies);
    writeFileSync(path.join(dir, 'balance/catalog-info.yaml'), component('balance', { owner: 'nobody' }));
    writeTree({ 'cards/catalog-info.yaml': component('cards', { dependsOn: ['component:nowhere'] }) }, dir);
    const run = await readRun(known, dir, policies);
    claimLocations(run);
    checkReferences(run);
    const balance = run.candidates.get('component:default/balance')?.stored;
    assert.equal(balance?.stale, true);
    assert.equal(balance?.entity.spec?.owner, 'ledger');
    assert.match(balance?.staleReason ?? '', /owner "nobody" does not exist/);
    assert.equal(run.candidates.has('component:default/cards'), false);
    assert.ok(run.errors.some((e) => e.entityRef === 'component:default/cards' && /nowhere/.test(e.message)));
    assert.equal(run.fileRows.find((f) => f.path.endsWith('cards/catalog-info.yaml'))?.ok, false);
    await store.close();
  });

  it("check references: under Backstage's rules a dangling reference is a warning and the entity stays", async () => {
    const dir = tree();
    const { known, store } = await ingested(dir, BACKSTAGE);
    writeTree({ 'cards/catalog-info.yaml': component('cards', { dependsOn: ['component:nowhere'] }) }, dir);
    const run = await readRun(known, dir, BACKSTAGE);
    claimLocations(run);
    checkReferences(run);
    assert.ok(run.candidates.has('component:default/cards'));
    const warning = run.errors.find((e) => e.entityRef === 'component:default/cards');
    assert.equal(warning?.severity, 'warning');
    await store.close();
  });

  it('diff relations: a new dependency is written on both sides, only what changed is upserted, nothing known changes', async () => {
    const dir = tree();
    const { known, store, fingerprint } = await ingested(dir);
    const before = fingerprint();
    writeFileSync(
      path.join(dir, 'ledger/catalog-info.yaml'),
      component('ledger', { dependsOn: ['component:balance'] }),
    );
    // balance already depends on ledger: drop that and make ledger depend on balance instead.
    writeFileSync(path.join(dir, 'balance/catalog-info.yaml'), component('balance'));
    const run = await readRun(known, dir);
    claimLocations(run);
    checkReferences(run);
    const change = diffRelations(run);
    assert.deepEqual(change.upsert.map((e) => e.ref).sort(), [
      'component:default/balance',
      'component:default/ledger',
    ]);
    assert.deepEqual(change.removed, []);
    const ledger = change.relationChanges.get('component:default/ledger') ?? [];
    assert.ok(ledger.some((r) => r.type === 'dependsOn' && r.targetRef === 'component:default/balance'));
    assert.ok(!ledger.some((r) => r.type === 'dependencyOf'));
    const balance = change.relationChanges.get('component:default/balance') ?? [];
    assert.ok(balance.some((r) => r.type === 'dependencyOf' && r.targetRef === 'component:default/ledger'));
    assert.equal(fingerprint(), before, 'nothing known changed');
    await store.close();
  });

  it('commit: the known catalogue takes the change only once the store has it; a refused write leaves it as it was', async () => {
    const dir = tree();
    const { known, store } = await ingested(dir);
    writeTree({ 'cards/catalog-info.yaml': component('cards', { dependsOn: ['component:ledger'] }) }, dir);
    const next = async (): Promise<IngestRun> => {
      const run = await readRun(known, dir);
      claimLocations(run);
      checkReferences(run);
      return run;
    };
    // Another writer moves the store on: this run read an older generation, so its write is refused.
    const other = new Ingester(await CatalogStore.open(store.url));
    const stale = await next();
    await other.ingest([dir], { force: true });
    const generation = known.generation;
    await assert.rejects(commit(stale, store, diffRelations(stale)), CatalogConflictError);
    assert.equal(known.generation, generation);
    assert.equal(known.entities.has('component:default/cards'), false, 'not known before it is stored');
    await store.close();
    // A fresh read of the store, then a run that commits.
    const again = await ingested(dir);
    writeTree({ 'savings/catalog-info.yaml': component('savings') }, dir);
    const run = await readRun(again.known, dir);
    claimLocations(run);
    checkReferences(run);
    await commit(run, again.store, diffRelations(run));
    assert.ok(again.known.entities.has('component:default/savings'));
    const reread = await new Ingester(again.store).snapshot();
    assert.ok(reread.entities.has('component:default/savings'), 'in the store');
    assert.equal(reread.generation, again.known.generation);
    await again.store.close();
  });
});
