import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { openDriver } from '@bank/catalog/sql';
import { component, ORG, writeTree } from '@bank/catalog/testing';
import { CatalogService } from './service.ts';
import { watchRoots } from './watch.ts';

const until = async (what: string, ok: () => boolean, ms = 30_000) => {
  const started = Date.now();
  while (!ok()) {
    if (Date.now() - started > ms) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('watching descriptor files', () => {
  it('a locations.yaml given as the root: edits of the files it lists, and targets added to it, are taken in each time (saved as editors save, by rename)', async () => {
    const dir = writeTree({
      'locations.yaml': `apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: root}
spec:
  targets:
    - ./org.yaml
    - ./svc/ledger.yaml
`,
      'org.yaml': ORG,
      'svc/ledger.yaml': component('ledger', { tier: '1' }),
    });
    const save = (rel: string, text: string) => {
      writeFileSync(path.join(dir, `${rel}.tmp`), text);
      renameSync(path.join(dir, `${rel}.tmp`), path.join(dir, rel));
    };
    const root = path.join(dir, 'locations.yaml');
    const store = await CatalogStore.open(
      `file:${path.join(mkdtempSync(path.join(tmpdir(), 'watch-')), 'p.db')}`,
    );
    const catalog = new CatalogService(store, [root]);
    await catalog.ingest();
    const stop = watchRoots(catalog, [root], () => {});
    try {
      await new Promise((r) => setTimeout(r, 500)); // the watcher is ready shortly after start
      const tier = () =>
        catalog.loaded.byRef.get('component:default/ledger')?.metadata.annotations?.['bank.io/tier'];
      for (const [i, next] of ['2', '3'].entries()) {
        save('svc/ledger.yaml', component('ledger', { tier: next }));
        await until(`edit ${i + 1} of a listed file`, () => tier() === next);
        const name = `added-${i}`;
        writeFileSync(path.join(dir, 'svc', `${name}.yaml`), component(name));
        save('locations.yaml', `${readFileSync(root, 'utf8')}    - ./svc/${name}.yaml\n`);
        await until(`target ${i + 1} added to the root`, () =>
          catalog.loaded.byRef.has(`component:default/${name}`),
        );
      }
    } finally {
      await stop();
      await store.close();
    }
  });

  it('keeps an edit saved while the database is locked by another writer, and ingests it once the lock is gone', async () => {
    const dir = writeTree({
      'org/catalog-info.yaml': ORG,
      'ledger/catalog-info.yaml': component('ledger', { tier: '1' }),
    });
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'watch-')), 'p.db');
    const store = await CatalogStore.open(`file:${file}`);
    const catalog = new CatalogService(store, [dir]);
    await catalog.ingest();
    const tier = () =>
      catalog.loaded.byRef.get('component:default/ledger')?.metadata.annotations?.['bank.io/tier'];
    const problems: string[] = [];
    const stop = watchRoots(
      catalog,
      [dir],
      () => {},
      (m) => problems.push(m),
    );
    await new Promise((r) => setTimeout(r, 500)); // the watcher is ready shortly after start

    // Another process (here: another connection) holds the write lock longer than SQLite waits for it.
    const other = openDriver(`file:${file}`);
    await other.exec('BEGIN IMMEDIATE');
    writeFileSync(path.join(dir, 'ledger/catalog-info.yaml'), component('ledger', { tier: '3' }));
    await until('the ingest fails on the lock', () => problems.length > 0);
    assert.match(
      problems[0],
      /ingest failed, 1 changed file\(s\) kept, retrying in 1 s: The catalogue database .* is busy: another process/,
    );
    assert.equal(tier(), '1');

    await other.exec('COMMIT');
    await other.close();
    await until('the kept edit is ingested', () => tier() === '3');
    await stop();
    await store.close();
  });
});
