import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { openDriver } from '@bank/catalog/store/sql.ts';
import { component, ORG, writeTree } from '@bank/catalog/testing/tree.ts';
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
