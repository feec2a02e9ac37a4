/**
 * The catalogue snapshot beside the store (what `portal path|get` read without opening the store): a portal
 * starting again on an unchanged store keeps the file it finds (at 35,000 services writing it again costs
 * seconds and hundreds of MB), while a store made afresh at the same path, whose generations start again at
 * the same numbers, always gets its own. Real SQLite files, real descriptor files.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { CatalogService } from './service.ts';
import { isSnapshot, readSnapshot } from './snapshot.ts';

function descriptor(root: string, name: string, description: string): void {
  mkdirSync(path.join(root, name), { recursive: true });
  writeFileSync(
    path.join(root, name, 'catalog-info.yaml'),
    `apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${name}\n  description: ${description}\nspec:\n  type: service\n  lifecycle: production\n  owner: user:default/jane\n`,
  );
}

async function open(db: string, root: string, snapshotFile: string): Promise<CatalogService> {
  const catalog = new CatalogService(await CatalogStore.open(`file:${db}`), [root], { snapshotFile });
  await catalog.view();
  return catalog;
}

const descriptionIn = (file: string) => {
  const snap = readSnapshot(file);
  assert.ok(isSnapshot(snap));
  return snap.entities.get('component:default/card-api')?.entity.metadata.description;
};

describe('the catalogue snapshot at start', () => {
  it('is kept when the store is unchanged, and written anew for a store made afresh', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'snapshot-'));
    const root = path.join(dir, 'services');
    const db = path.join(dir, 'portal.db');
    const file = path.join(dir, 'portal.graph.snapshot');
    descriptor(root, 'card-api', 'first');

    const first = await open(db, root, file);
    await first.ingest();
    await first.store.close();
    const written = statSync(file).mtimeMs;
    assert.equal(descriptionIn(file), 'first');

    // Restarted on the same store: the same generation, the file is left as it is.
    const again = await open(db, root, file);
    assert.equal(statSync(file).mtimeMs, written);
    await again.store.close();

    // The store deleted and filled again from an edited tree: the same generation number, another catalogue.
    for (const suffix of ['', '-wal', '-shm']) rmSync(db + suffix, { force: true });
    descriptor(root, 'card-api', 'second');
    const fresh = await open(db, root, file);
    await fresh.ingest();
    assert.equal(fresh.generation, first.generation);
    assert.equal(descriptionIn(file), 'second');
    await fresh.store.close();
  });
});
