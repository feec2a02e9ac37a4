// A new, empty SQLite database (the quick start's first `npm start`, a test's throwaway store) gets the
// committed migrations applied as Prisma applies them, without loading the schema engine: loading and
// starting the wasm engine costs about a second, longer than the whole rest of a 350-service start.
//
// On an empty database `prisma migrate deploy` runs each migration.sql as it is and records it in
// `_prisma_migrations` (its checksum is the SHA-256 of the file, in hex). That is all this does, in one
// exclusive transaction, so a second process racing on the same new file sees all of it or none. Anything
// else (a database with tables, a migration that fails) is left to the engine: `migrateDeploy`.
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DEFAULT_PRISMA_DIR, migrationNames, pathsFor } from './migrations.ts';

/** Prisma's own table, as its engine creates it on SQLite. */
const PRISMA_MIGRATIONS_TABLE = `CREATE TABLE "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)`;

/** Prisma's DateTime text on SQLite: `2026-12-05T08:24:42.467+00:00`. */
const prismaTime = () => new Date().toISOString().replace('Z', '+00:00');

/**
 * Applies every migration to the SQLite file `file` if it has no table yet. True when it did; false when the
 * database is not empty or a migration failed (nothing is written then), so the engine should do it.
 */
export function migrateFreshSqlite(file: string, prismaDir = DEFAULT_PRISMA_DIR): boolean {
  const { migrationsDir } = pathsFor('sqlite', prismaDir);
  const migrations = migrationNames(migrationsDir).map((name) => ({
    name,
    sql: readFileSync(join(migrationsDir, name, 'migration.sql')),
  }));
  if (migrations.length === 0) return false;
  const db = new Database(file, { timeout: 5000 });
  try {
    try {
      db.exec('BEGIN EXCLUSIVE');
      const tables = db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'").get() as {
        n: number;
      };
      if (tables.n > 0) {
        db.exec('ROLLBACK');
        return false;
      }
      db.exec(PRISMA_MIGRATIONS_TABLE);
      const record = db.prepare(
        'INSERT INTO "_prisma_migrations" ("id", "checksum", "finished_at", "migration_name", "logs", "rolled_back_at", "started_at", "applied_steps_count") VALUES (?, ?, ?, ?, NULL, NULL, ?, 1)',
      );
      for (const m of migrations) {
        const startedAt = prismaTime();
        db.exec(m.sql.toString('utf8'));
        const checksum = createHash('sha256').update(m.sql).digest('hex');
        record.run(randomUUID(), checksum, prismaTime(), m.name, startedAt);
      }
      db.exec('COMMIT');
      return true;
    } catch {
      if (db.inTransaction) db.exec('ROLLBACK');
      return false;
    }
  } finally {
    db.close();
  }
}
