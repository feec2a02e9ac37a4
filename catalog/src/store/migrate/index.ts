// Prisma migrations without Prisma's native engine: deploy, status, diff and dev on the wasm schema engine,
// for SQLite (better-sqlite3) and PostgreSQL (pg). See README.md.
import type { DiffTarget, MigrationList, SchemaFilter } from '@prisma/schema-engine-wasm';
import { type MigrationAdapter, migrationAdapter, type Provider, providerOf, redact } from './adapters.ts';
import { openEngine, type SchemaEngine } from './engine.ts';
import {
  DEFAULT_PRISMA_DIR,
  loadMigrations,
  migrationNames,
  type ProviderPaths,
  pathsFor,
  readSchema,
  uniqueMigrationName,
  writeMigration,
} from './migrations.ts';

export type { Provider };
export { providerOf };

/** Where the schema and migrations live; tests point this at a copy. Default: catalog/prisma. */
export interface MigrateOptions {
  prismaDir?: string;
}

const NO_FILTER: SchemaFilter = { externalTables: [], externalEnums: [] };

interface Session {
  provider: Provider;
  paths: ProviderPaths;
  schema: string;
  engine: SchemaEngine;
  migrations(): MigrationList;
}

/** An engine error as one readable line (the engine rejects with Error-likes carrying Prisma's codes). */
export function engineMessage(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return typeof code === 'string' && /^P\d{4}$/.test(code) ? `${code} ${e.message}` : e.message;
  }
  if (typeof e === 'object' && e !== null) {
    const o = e as { message?: unknown; error_code?: unknown; meta?: unknown };
    if (typeof o.message === 'string')
      return typeof o.error_code === 'string' ? `${o.error_code}: ${o.message}` : o.message;
    return JSON.stringify(e);
  }
  return String(e);
}

async function withEngine<T>(
  url: string,
  opts: MigrateOptions | undefined,
  fn: (s: Session) => Promise<T>,
): Promise<T> {
  const provider = providerOf(url);
  const paths = pathsFor(provider, opts?.prismaDir ?? DEFAULT_PRISMA_DIR);
  const schema = readSchema(paths);
  let adapter: MigrationAdapter | undefined;
  let engine: SchemaEngine | undefined;
  try {
    adapter = migrationAdapter(url);
    const { bindMigrationAwareSqlAdapterFactory } = await import('@prisma/driver-adapter-utils');
    engine = await openEngine(paths.schemaPath, schema, bindMigrationAwareSqlAdapterFactory(adapter.factory));
    return await fn({
      provider,
      paths,
      schema,
      engine,
      migrations: () => loadMigrations(paths.migrationsDir),
    });
  } catch (e) {
    const err = new Error(`migrate (${provider}, ${redact(url)}): ${engineMessage(e)}`, { cause: e });
    throw err;
  } finally {
    engine?.free();
    await adapter?.close();
  }
}

/** Applies pending migrations, recording them in `_prisma_migrations`. Idempotent. */
export async function migrateDeploy(url: string, opts?: MigrateOptions): Promise<{ applied: string[] }> {
  return withEngine(url, opts, async ({ engine, migrations, paths }) => {
    const list = migrations();
    if (list.migrationDirectories.length === 0) throw new Error(`no migrations in ${paths.migrationsDir}`);
    const out = await engine.applyMigrations({ migrationsList: list, filters: NO_FILTER });
    return { applied: out.appliedMigrationNames };
  });
}

/**
 * Compares the database with the migrations folder and the folder with schema.prisma. `ok` is false on
 * pending, failed or edited migrations, on migrations the folder lacks, on drift between the database and
 * its migrations, and on schema.prisma changes that no migration captures.
 */
export async function migrateStatus(
  url: string,
  opts?: MigrateOptions,
): Promise<{ ok: boolean; pending: string[]; problems: string[] }> {
  return withEngine(url, opts, async ({ engine, migrations, paths, schema }) => {
    const list = migrations();
    const problems: string[] = [];
    let pending: string[] = [];
    const diag = await engine
      .diagnoseMigrationHistory({ migrationsList: list, optInToShadowDatabase: false, filters: NO_FILTER })
      .catch((e: unknown) => {
        // P1014: no `_prisma_migrations` table yet, i.e. a database nothing was ever deployed to.
        if ((e as { code?: unknown })?.code !== 'P1014') throw e;
        const unappliedMigrationNames = list.migrationDirectories.map((d) => d.path);
        return {
          failedMigrationNames: [],
          editedMigrationNames: [],
          hasMigrationsTable: false,
          history:
            unappliedMigrationNames.length > 0
              ? { diagnostic: 'databaseIsBehind' as const, unappliedMigrationNames }
              : null,
        };
      });
    for (const name of diag.failedMigrationNames) {
      problems.push(`migration ${name} failed to apply: fix the database by hand, then deploy again`);
    }
    for (const name of diag.editedMigrationNames) {
      problems.push(
        `migration ${name} was edited after it was applied (its checksum differs from the database's record); restore the applied version and put changes in a new migration`,
      );
    }
    const h = diag.history;
    if (h?.diagnostic === 'databaseIsBehind') {
      pending = h.unappliedMigrationNames;
    } else if (h?.diagnostic === 'migrationsDirectoryIsBehind') {
      problems.push(
        `the database has migrations that are not in ${paths.migrationsDir}: ${h.unpersistedMigrationNames.join(', ')}`,
      );
    } else if (h?.diagnostic === 'historiesDiverge') {
      pending = h.unappliedMigrationNames;
      problems.push(
        `the migration history diverges after ${h.lastCommonMigrationName ?? '(the start)'}: the database has ${h.unpersistedMigrationNames.join(', ') || 'none'} that the folder lacks`,
      );
    }
    if (pending.length > 0) {
      problems.unshift(
        `${pending.length} migration${pending.length === 1 ? '' : 's'} not applied yet: ${pending.join(', ')} (run: npm run db:migrate)`,
      );
    }
    const schemaFiles = { files: [{ path: paths.schemaPath, content: schema }] };
    const fromMigrations: DiffTarget =
      list.migrationDirectories.length > 0 ? { tag: 'migrations', ...list } : { tag: 'empty' };
    const liveDatabase: DiffTarget = {
      tag: 'schemaDatasource',
      ...schemaFiles,
      configDir: paths.migrationsDir,
    };
    // Drift: the live database against what its migrations produce (replayed on a shadow database).
    // Meaningful only on a clean history.
    let drifted = true;
    if (problems.length === 0) {
      const drift = await engine.diff({
        from: fromMigrations,
        to: liveDatabase,
        script: false,
        exitCode: true,
        filters: NO_FILTER,
      });
      drifted = drift.exitCode === 2;
      if (drifted) {
        problems.push(
          `schema drift: the database differs from what its migrations produce:\n${indent(drift.stdout)}`,
        );
      }
    }
    // schema.prisma against the migrations: the CI check that nobody forgot `db:dev`. When the database is
    // known to equal its migrations, compare with the database and spare a second shadow database (on
    // PostgreSQL each one is a CREATE DATABASE, about a second).
    const unmigrated = await engine.diff({
      from: drifted ? fromMigrations : liveDatabase,
      to: { tag: 'schemaDatamodel', ...schemaFiles },
      script: false,
      exitCode: true,
      filters: NO_FILTER,
    });
    if (unmigrated.exitCode === 2) {
      problems.push(
        `schema.prisma has changes that no migration captures (run: npm run db:dev -- --name <change>):\n${indent(unmigrated.stdout)}`,
      );
    }
    return { ok: problems.length === 0, pending, problems };
  });
}

const indent = (s: string | null) =>
  (s ?? '')
    .trim()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');

/** The SQL that would take the database produced by the migrations to schema.prisma (empty when none). */
export async function migrateDiff(url: string, opts?: MigrateOptions): Promise<string> {
  return withEngine(url, opts, async ({ engine, migrations, paths, schema }) => {
    const list = migrations();
    const out = await engine.diff({
      from: list.migrationDirectories.length > 0 ? { tag: 'migrations', ...list } : { tag: 'empty' },
      to: { tag: 'schemaDatamodel', files: [{ path: paths.schemaPath, content: schema }] },
      script: true,
      exitCode: null,
      filters: NO_FILTER,
    });
    const sql = out.stdout ?? '';
    return /^\s*(-- This is an empty migration\.\s*)?$/.test(sql) ? '' : sql;
  });
}

/**
 * Creates a migration from the difference between the migrations and schema.prisma, and applies it unless
 * `createOnly` (or unless it would lose data: then it is only created, with `warnings`). Like `prisma migrate
 * dev`, it first applies pending migrations. Returns `{}` when the schema has no changes.
 */
export async function migrateDev(
  url: string,
  name: string,
  opts?: { createOnly?: boolean } & MigrateOptions,
): Promise<{ created?: string; warnings?: string[] }> {
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`migrate: bad migration name ${JSON.stringify(name)}`);
  return withEngine(url, opts, async ({ engine, migrations, paths, schema, provider }) => {
    const schemaFiles = { files: [{ path: paths.schemaPath, content: schema }] };
    let list = migrations();
    // A fresh database has no migrations table, and the dev diagnostic fails on it (P1014): apply first.
    await engine.applyMigrations({ migrationsList: list, filters: NO_FILTER });
    // createMigration gets no adapter of its own; the dev diagnostic runs first, as in `prisma migrate dev`.
    const diagnostic = await engine.devDiagnostic({ migrationsList: list, filters: NO_FILTER });
    if (diagnostic.action.tag === 'reset') {
      throw new Error(
        `the database must be reset before a new migration can be created: ${diagnostic.action.reason}`,
      );
    }
    const loss = await engine.evaluateDataLoss({
      migrationsList: list,
      schema: schemaFiles,
      filters: NO_FILTER,
    });
    const warnings = [...loss.unexecutableSteps, ...loss.warnings].map((w) => w.message);
    const created = await engine.createMigration({
      draft: opts?.createOnly === true,
      migrationName: name,
      migrationsList: list,
      schema: schemaFiles,
      filters: NO_FILTER,
    });
    if (created.migrationScript === null) return {};
    const folder = uniqueMigrationName(created.generatedMigrationName, migrationNames(paths.migrationsDir));
    writeMigration(paths.migrationsDir, provider, folder, created.migrationScript);
    if (!opts?.createOnly && warnings.length === 0) {
      list = migrations();
      await engine.applyMigrations({ migrationsList: list, filters: NO_FILTER });
    }
    return warnings.length > 0 ? { created: folder, warnings } : { created: folder };
  });
}
