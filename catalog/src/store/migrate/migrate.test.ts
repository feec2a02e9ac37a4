// The migration runner on real databases: a SQLite file, and a real PostgreSQL 15 (the throwaway cluster of
// scripts/pg-harness.mjs; `npm test` passes its URL in TEST_PG_URL, else this file starts or reuses it).
// Without PostgreSQL the PG suite is skipped with the reason, except under CI=true, where it fails.
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { type Provider, pgConfigOf, providerOf, sqlitePath } from './adapters.ts';
import { migrateDeploy, migrateDev, migrateDiff, migrateStatus } from './index.ts';
import { DEFAULT_PRISMA_DIR, migrationNames, pathsFor, uniqueMigrationName } from './migrations.ts';

interface PgHarness {
  postgresUnavailableReason(): string | null;
  startPostgres(opts?: { port?: number }): Promise<{ url: string }>;
  createDatabase(url: string, name: string): Promise<string>;
  dropDatabase(url: string): Promise<void>;
}

// Every model of the schema is a table the committed migrations must create (and nothing else).
const TABLES = [
  ...readFileSync(join(DEFAULT_PRISMA_DIR, 'models.prisma.part'), 'utf8').matchAll(/^model (\w+) \{/gm),
]
  .map((m) => m[1])
  .sort();
const committed = (provider: Provider) => migrationNames(pathsFor(provider).migrationsDir);

/** A private copy of catalog/prisma/<provider> (schema + migrations) that a test may edit. */
function prismaCopy(provider: Provider): string {
  const dir = mkdtempSync(join(tmpdir(), 'portal-prisma-'));
  cpSync(join(DEFAULT_PRISMA_DIR, provider), join(dir, provider), { recursive: true });
  return dir;
}

function editFirstMigration(prismaDir: string, provider: Provider): string {
  const { migrationsDir } = pathsFor(provider, prismaDir);
  const [first] = migrationNames(migrationsDir);
  appendFileSync(join(migrationsDir, first, 'migration.sql'), '\n-- an edit after the fact\n');
  return first;
}

describe('providerOf', () => {
  test('postgres URLs are postgresql, file URLs and paths are sqlite', () => {
    assert.equal(providerOf('postgres://u:p@h:5432/db'), 'postgresql');
    assert.equal(providerOf('postgresql://h/db'), 'postgresql');
    assert.equal(providerOf('file:./data/portal.db'), 'sqlite');
    assert.equal(providerOf('/tmp/x.db'), 'sqlite');
    assert.equal(providerOf('data/portal.db'), 'sqlite');
    assert.throws(() => providerOf('mysql://h/db'), /unsupported/);
  });

  test('sqlite URLs resolve to a file path', () => {
    assert.equal(sqlitePath('file:/tmp/a.db'), '/tmp/a.db');
    assert.equal(sqlitePath('file:///tmp/a.db'), '/tmp/a.db');
    assert.equal(sqlitePath('/tmp/a.db'), '/tmp/a.db');
    assert.equal(sqlitePath('file:data/a.db'), join(process.cwd(), 'data/a.db'));
  });

  test('pg config is built from discrete fields, never a connection string (pitfall 3)', () => {
    const c = pgConfigOf('postgres://svc%40bank:p%2Fw@db.internal:6543/portal?schema=cat');
    assert.deepEqual(
      {
        host: c.host,
        port: c.port,
        user: c.user,
        password: c.password,
        database: c.database,
        schema: c.schema,
      },
      {
        host: 'db.internal',
        port: 6543,
        user: 'svc@bank',
        password: 'p/w',
        database: 'portal',
        schema: 'cat',
      },
    );
    assert.equal('connectionString' in c, false);
  });
});

describe('uniqueMigrationName', () => {
  test('keeps a newer timestamp, bumps one that collides or sorts before the newest', () => {
    assert.equal(uniqueMigrationName('20260101120000_b', ['20260101115959_a']), '20260101120000_b');
    assert.equal(uniqueMigrationName('20260101120000_b', ['20260101120000_a']), '20260101120001_b');
    assert.equal(uniqueMigrationName('20260101120000_b', ['20260101235959_a']), '20260102000000_b');
    assert.equal(uniqueMigrationName('20260101120000_b', []), '20260101120000_b');
  });
});

describe('migrations on SQLite', () => {
  const freshUrl = () =>
    `file:${join(mkdtempSync(join(tmpdir(), 'portal-migrate-')), 'nested', 'dir', 'portal.db')}`;

  test('deploy on a fresh file creates its folder and the tables; a second deploy is a no-op; status ok', async () => {
    const url = freshUrl();
    const first = await migrateDeploy(url);
    assert.deepEqual(first.applied, committed('sqlite'));
    assert.ok(existsSync(sqlitePath(url)));

    const db = new Database(sqlitePath(url), { readonly: true });
    try {
      const tables = db
        .prepare(
          "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name",
        )
        .pluck()
        .all();
      assert.deepEqual(tables, [...TABLES, '_prisma_migrations'].sort());
      const rows = db
        .prepare('select migration_name, finished_at is not null as done from _prisma_migrations')
        .all() as Array<{ migration_name: string; done: number }>;
      assert.deepEqual(
        rows.map((r) => [r.migration_name, r.done]),
        committed('sqlite').map((n) => [n, 1]),
      );
    } finally {
      db.close();
    }

    assert.deepEqual(await migrateDeploy(url), { applied: [] });
    assert.deepEqual(await migrateStatus(url), { ok: true, pending: [], problems: [] });
    assert.equal(await migrateDiff(url), '');
  });

  test('status on a fresh database lists the pending migrations', async () => {
    const status = await migrateStatus(freshUrl());
    assert.equal(status.ok, false);
    assert.deepEqual(status.pending, committed('sqlite'));
    assert.match(status.problems[0], /not applied yet/);
  });

  test('status reports a migration edited after it was applied', async () => {
    const prismaDir = prismaCopy('sqlite');
    const url = freshUrl();
    await migrateDeploy(url, { prismaDir });
    const edited = editFirstMigration(prismaDir, 'sqlite');
    const status = await migrateStatus(url, { prismaDir });
    assert.equal(status.ok, false);
    assert.ok(
      status.problems.some((p) => p.includes(edited) && /edited/.test(p)),
      status.problems.join('\n'),
    );
  });

  test('status reports drift: a table the migrations do not create', async () => {
    const url = freshUrl();
    await migrateDeploy(url);
    const db = new Database(sqlitePath(url));
    db.exec('create table "Stray" (id integer primary key)');
    db.close();
    const status = await migrateStatus(url);
    assert.equal(status.ok, false);
    assert.ok(
      status.problems.some((p) => /drift/.test(p) && p.includes('Stray')),
      status.problems.join('\n'),
    );
  });

  test('dev creates a migration from a schema change (shadow replay, pitfall 1); status ok afterwards', async () => {
    const prismaDir = prismaCopy('sqlite');
    const url = freshUrl();
    const { schemaPath, migrationsDir } = pathsFor('sqlite', prismaDir);
    assert.deepEqual(await migrateDev(url, 'nothing', { prismaDir }), {}, 'no schema change, no migration');

    appendFileSync(schemaPath, '\nmodel Team {\n  id   String @id\n  name String\n}\n');
    const before = await migrateStatus(url, { prismaDir });
    assert.ok(before.problems.some((p) => /no migration captures/.test(p) && p.includes('Team')));
    assert.match(await migrateDiff(url, { prismaDir }), /CREATE TABLE "Team"/);

    const { created } = await migrateDev(url, 'add_team', { createOnly: true, prismaDir });
    assert.ok(created?.endsWith('_add_team'));
    assert.equal(migrationNames(migrationsDir).at(-1), created);
    assert.deepEqual((await migrateStatus(url, { prismaDir })).pending, [created]);
    assert.deepEqual(await migrateDeploy(url, { prismaDir }), { applied: [created] });
    assert.deepEqual(await migrateStatus(url, { prismaDir }), { ok: true, pending: [], problems: [] });
  });
});

describe('migrations on PostgreSQL', async () => {
  // @ts-expect-error: plain ESM helper without types
  const harness = (await import('../../../../scripts/pg-harness.mjs')) as PgHarness;
  const reason = process.env.TEST_PG_URL ? null : harness.postgresUnavailableReason();
  // Never skip in CI: there every test runs and fails in freshUrl().
  const skip = reason && process.env.CI !== 'true' ? `PostgreSQL unavailable: ${reason}` : false;

  let serverUrl = '';
  const created: string[] = [];
  let n = 0;
  const freshUrl = async () => {
    if (reason) throw new Error(`PostgreSQL is required in CI: ${reason}`);
    const url = await harness.createDatabase(serverUrl, `t_migrate_${process.pid}_${++n}`);
    created.push(url);
    return url;
  };
  const query = async (url: string, sql: string): Promise<unknown[]> => {
    const { schema: _schema, ...config } = pgConfigOf(url);
    const client = new pg.Client(config);
    await client.connect();
    try {
      return (await client.query(sql)).rows;
    } finally {
      await client.end();
    }
  };

  before(async () => {
    if (reason) return; // skipped, or (in CI) failing in freshUrl()
    serverUrl = process.env.TEST_PG_URL || (await harness.startPostgres()).url;
  });
  after(async () => {
    for (const url of created) await harness.dropDatabase(url);
  });

  test('deploy on a fresh database creates the tables; a second deploy is a no-op; status ok', {
    skip,
  }, async () => {
    const url = await freshUrl();
    const shadowsOf = async () =>
      (await query(url, "select datname from pg_database where datname like 'prisma_migrate_shadow%'")).map(
        (r) => (r as { datname: string }).datname,
      );
    const shadowsBefore = new Set(await shadowsOf());
    assert.deepEqual((await migrateDeploy(url)).applied, committed('postgresql'));
    const tables = await query(
      url,
      "select table_name from information_schema.tables where table_schema = 'public' order by table_name",
    );
    assert.deepEqual(
      tables.map((r) => (r as { table_name: string }).table_name),
      [...TABLES, '_prisma_migrations'].sort(),
    );
    assert.deepEqual(await migrateDeploy(url), { applied: [] });
    assert.deepEqual(await migrateStatus(url), { ok: true, pending: [], problems: [] });
    // Pitfall 4: every shadow database the diffs created is gone again (others' may be in flight).
    assert.deepEqual(
      (await shadowsOf()).filter((d) => !shadowsBefore.has(d)),
      [],
    );
  });

  test('status reports a migration edited after it was applied', { skip }, async () => {
    const prismaDir = prismaCopy('postgresql');
    const url = await freshUrl();
    await migrateDeploy(url, { prismaDir });
    const edited = editFirstMigration(prismaDir, 'postgresql');
    const status = await migrateStatus(url, { prismaDir });
    assert.equal(status.ok, false);
    assert.ok(
      status.problems.some((p) => p.includes(edited) && /edited/.test(p)),
      status.problems.join('\n'),
    );
  });

  test('status reports schema.prisma changes no migration captures', { skip }, async () => {
    const prismaDir = prismaCopy('postgresql');
    const url = await freshUrl();
    await migrateDeploy(url, { prismaDir });
    writeFileSync(pathsFor('postgresql', prismaDir).schemaPath, `${'\n'}model Team {\n  id String @id\n}\n`, {
      flag: 'a',
    });
    const status = await migrateStatus(url, { prismaDir });
    assert.equal(status.ok, false);
    assert.ok(status.problems.some((p) => /no migration captures/.test(p) && p.includes('Team')));
  });
});
