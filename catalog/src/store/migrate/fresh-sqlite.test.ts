// A new SQLite store migrated without the schema engine (fresh-sqlite.ts) is the database the engine makes:
// the same tables, indexes and columns, the same bookkeeping, and Prisma's own status check finds nothing
// to say about it. Real SQLite files, the real wasm engine beside it.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { CatalogStore } from '../store.ts';
import { migrateFreshSqlite } from './fresh-sqlite.ts';
import { migrateDeploy, migrateDiff, migrateStatus } from './index.ts';
import { migrationNames, pathsFor } from './migrations.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'portal-fresh-sqlite-'));

function schemaOf(file: string): { sql: string[]; migrations: { name: string; checksum: string }[] } {
  const db = new Database(file, { readonly: true });
  try {
    return {
      sql: db
        .prepare(
          "SELECT type || ' ' || name || ': ' || sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name",
        )
        .pluck()
        .all() as string[],
      migrations: db
        .prepare(
          'SELECT migration_name AS name, checksum FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL AND applied_steps_count = 1 AND logs IS NULL ORDER BY migration_name',
        )
        .all() as { name: string; checksum: string }[],
    };
  } finally {
    db.close();
  }
}

describe('a new SQLite store migrated without the schema engine', () => {
  test('has the schema and bookkeeping the engine writes, and the engine finds it up to date', async () => {
    const d = dir();
    const byEngine = join(d, 'engine.db');
    const byFile = join(d, 'fresh.db');
    await migrateDeploy(`file:${byEngine}`);
    assert.equal(migrateFreshSqlite(byFile), true);

    assert.deepEqual(schemaOf(byFile), schemaOf(byEngine));
    assert.deepEqual(
      schemaOf(byFile).migrations.map((m) => m.name),
      migrationNames(pathsFor('sqlite').migrationsDir),
    );
    assert.deepEqual(await migrateStatus(`file:${byFile}`), { ok: true, pending: [], problems: [] });
    assert.equal(await migrateDiff(`file:${byFile}`), '');
    assert.deepEqual(await migrateDeploy(`file:${byFile}`), { applied: [] });
  });

  test('a database that has tables is left to the engine, untouched', () => {
    const file = join(dir(), 'used.db');
    const db = new Database(file);
    db.exec('CREATE TABLE mine (x INTEGER)');
    db.close();
    assert.equal(migrateFreshSqlite(file), false);
    const after = new Database(file, { readonly: true });
    try {
      assert.deepEqual(after.prepare('SELECT name FROM sqlite_master').pluck().all(), ['mine']);
    } finally {
      after.close();
    }
  });

  test('a migration that fails writes nothing', () => {
    const prisma = dir();
    const migration = join(prisma, 'sqlite', 'migrations', '20200101000000_broken');
    mkdirSync(migration, { recursive: true });
    writeFileSync(join(migration, 'migration.sql'), 'CREATE TABLE ok (x INTEGER);\nTHIS IS NOT SQL;\n');
    const file = join(dir(), 'broken.db');
    assert.equal(migrateFreshSqlite(file, prisma), false);
    const db = new Database(file, { readonly: true });
    try {
      assert.equal(db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'").pluck().get(), 0);
    } finally {
      db.close();
    }
  });

  test('CatalogStore.open on a new file serves a working, up-to-date store', async () => {
    const url = `file:${join(dir(), 'nested', 'portal.db')}`;
    const store = await CatalogStore.open(url);
    try {
      assert.equal(await store.generation(), 0);
      assert.deepEqual(await store.locations(), []);
    } finally {
      await store.close();
    }
    assert.deepEqual(await migrateStatus(url), { ok: true, pending: [], problems: [] });
  });
});
