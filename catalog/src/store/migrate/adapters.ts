// Driver adapters for the wasm schema engine, with the workarounds it needs on SQLite and PostgreSQL.
// Each pitfall below is numbered as in README.md.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import type {
  SqlDriverAdapter,
  SqlMigrationAwareDriverAdapterFactory,
  SqlQuery,
  Transaction,
} from '@prisma/driver-adapter-utils';
import pg from 'pg';

export type Provider = 'sqlite' | 'postgresql';

/** 'postgres://' or 'postgresql://' → postgresql; 'file:' or a plain path → sqlite. */
export function providerOf(url: string): Provider {
  if (/^postgres(ql)?:\/\//i.test(url)) return 'postgresql';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !/^file:/i.test(url)) {
    throw new Error(
      `migrate: unsupported database URL scheme in ${redact(url)} (use postgres://… or file:…)`,
    );
  }
  return 'sqlite';
}

/** The URL with its password hidden, for messages. */
export function redact(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:@/]*:)[^@/]*@/i, '$1***@');
}

/** Absolute SQLite file path of a `file:` URL or a path (relative ones resolve against the cwd). */
export function sqlitePath(url: string): string {
  let path = url.replace(/^file:(\/\/(?=\/))?/i, '');
  path = path.replace(/\?.*$/, '');
  return resolve(path);
}

/** A migration-aware adapter factory plus a `close()` that releases everything it opened. */
export interface MigrationAdapter {
  factory: SqlMigrationAwareDriverAdapterFactory;
  close(): Promise<void>;
}

/** Delegates every adapter method to `a`, except those in `over`. bindAdapter only calls these members. */
function wrapAdapter(a: SqlDriverAdapter, over: Partial<SqlDriverAdapter> = {}): SqlDriverAdapter {
  const wrapped: SqlDriverAdapter = {
    provider: a.provider,
    adapterName: a.adapterName,
    queryRaw: (q) => a.queryRaw(q),
    executeRaw: (q) => a.executeRaw(q),
    executeScript: (s) => a.executeScript(s),
    startTransaction: (level) => a.startTransaction(level),
    dispose: () => a.dispose(),
    ...over,
  };
  if (a.getConnectionInfo && !over.getConnectionInfo) {
    const info = a.getConnectionInfo.bind(a);
    wrapped.getConnectionInfo = () => info();
  }
  return wrapped;
}

// ---------------------------------------------------------------------------------------------------------
// SQLite

const MULTI_STATEMENT = /more than one statement/i;

/**
 * Pitfall 1: the engine replays migrations on the shadow database as ONE multi-statement `executeRaw`, which
 * better-sqlite3's prepare() refuses ("The supplied SQL string contains more than one statement") and which
 * surfaces as P3006. When exactly that happens to a parameterless statement, re-run it as a script
 * (better-sqlite3's exec(), the adapter's executeScript) on the same connection, inside a transaction too.
 */
function withScriptFallback(adapter: SqlDriverAdapter): SqlDriverAdapter {
  const fallback =
    (run: (q: SqlQuery) => Promise<number>) =>
    async (q: SqlQuery): Promise<number> => {
      try {
        return await run(q);
      } catch (e) {
        if (q.args.length === 0 && MULTI_STATEMENT.test(String((e as Error)?.message))) {
          if (process.env.DEBUG_MIGRATE)
            process.stderr.write('[migrate] sqlite: multi-statement SQL re-run as a script\n');
          await adapter.executeScript(q.sql);
          return 0;
        }
        throw e;
      }
    };
  const wrapTx = (tx: Transaction): Transaction => {
    const wrapped: Transaction = {
      provider: tx.provider,
      adapterName: tx.adapterName,
      options: tx.options,
      queryRaw: (q) => tx.queryRaw(q),
      executeRaw: fallback((q) => tx.executeRaw(q)),
      commit: () => tx.commit(),
      rollback: () => tx.rollback(),
    };
    if (tx.createSavepoint) wrapped.createSavepoint = tx.createSavepoint.bind(tx);
    if (tx.rollbackToSavepoint) wrapped.rollbackToSavepoint = tx.rollbackToSavepoint.bind(tx);
    if (tx.releaseSavepoint) wrapped.releaseSavepoint = tx.releaseSavepoint.bind(tx);
    return wrapped;
  };
  return wrapAdapter(adapter, {
    executeRaw: fallback((q) => adapter.executeRaw(q)),
    startTransaction: async (level) => wrapTx(await adapter.startTransaction(level)),
  });
}

export function sqliteAdapter(url: string): MigrationAdapter {
  const path = sqlitePath(url);
  mkdirSync(dirname(path), { recursive: true });
  // The shadow database is an in-memory SQLite database (the adapter's default), gone on close.
  const inner = new PrismaBetterSqlite3({ url: path });
  const open = new Set<SqlDriverAdapter>();
  const track = (a: SqlDriverAdapter): SqlDriverAdapter => {
    open.add(a);
    return wrapAdapter(withScriptFallback(a), {
      dispose: async () => {
        if (open.delete(a)) await a.dispose();
      },
    });
  };
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: 'sqlite',
    adapterName: inner.adapterName,
    connect: async () => track(await inner.connect()),
    connectToShadowDb: async () => track(await inner.connectToShadowDb()),
  };
  return {
    factory,
    close: async () => {
      for (const a of [...open]) {
        open.delete(a);
        await a.dispose();
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// PostgreSQL

const PG_CHAR_OID = 18; // PostgreSQL's internal one-byte "char" (pg_class.relkind, pg_constraint.contype)
const PG_TEXT_OID = 25;

type PgFields = { fields?: Array<{ dataTypeID: number }> };

function charAsText<T>(result: T): T {
  for (const r of Array.isArray(result) ? result : [result]) {
    for (const f of (r as PgFields | undefined)?.fields ?? []) {
      if (f.dataTypeID === PG_CHAR_OID) f.dataTypeID = PG_TEXT_OID;
    }
  }
  return result;
}

/**
 * Pitfall 2: the engine's catalog queries return "char" columns (OID 18) that @prisma/adapter-pg cannot map
 * ("Column type 'char' could not be deserialized"). A "char" arrives from pg as a one-character string, so
 * before the adapter sees a result we relabel those columns as text (OID 25). Patched per client, on the
 * pool's `connect` event, so it covers pool.query and checked-out clients (transactions) alike.
 */
function patchCharColumns(client: pg.PoolClient): void {
  type Query = (...args: unknown[]) => unknown;
  const original = client.query.bind(client) as Query;
  const patched: Query = (...args) => {
    const cb = args.findIndex((a) => typeof a === 'function');
    if (cb >= 0) {
      const callback = args[cb] as (err: unknown, res: unknown) => void;
      args[cb] = (err: unknown, res: unknown) => callback(err, err ? res : charAsText(res));
      return original(...args);
    }
    const ret = original(...args);
    return ret instanceof Promise ? ret.then(charAsText) : ret;
  };
  (client as unknown as { query: Query }).query = patched;
}

/**
 * Pitfall 3: the adapter points its shadow connection at another database by overriding `database` in its
 * pool config, but a `connectionString` in that config wins, so the "shadow" would be the main database.
 * We therefore always configure pg from discrete fields, never from a connection string.
 */
export function pgConfigOf(url: string): pg.PoolConfig & { schema?: string } {
  const u = new URL(url);
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres';
  const sslmode = u.searchParams.get('sslmode');
  return {
    host: decodeURIComponent(u.hostname) || '127.0.0.1',
    port: u.port ? Number(u.port) : 5432,
    user: decodeURIComponent(u.username) || process.env.PGUSER || 'postgres',
    password: u.password ? decodeURIComponent(u.password) : process.env.PGPASSWORD,
    database,
    ssl: sslmode && sslmode !== 'disable' && sslmode !== 'prefer' ? { rejectUnauthorized: false } : undefined,
    schema: u.searchParams.get('schema') ?? undefined,
  };
}

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

export function pgAdapter(url: string): MigrationAdapter {
  const { schema, ...config } = pgConfigOf(url);
  const pools = new Set<pg.Pool>();
  const shadows = new Set<string>();

  const newPool = (database: string): pg.Pool => {
    // allowExitOnIdle: an idle pool never keeps the process alive (it would for ~10 s otherwise).
    const pool = new pg.Pool({ ...config, database, max: 4, idleTimeoutMillis: 1000, allowExitOnIdle: true });
    pool.on('connect', patchCharColumns);
    pool.on('error', () => {}); // an idle client dropped by the server (e.g. a shadow DB dropped WITH FORCE)
    pools.add(pool);
    return pool;
  };
  const endPool = async (pool: pg.Pool) => {
    if (pools.delete(pool)) await pool.end();
  };
  const admin = async (sql: string) => {
    const client = new pg.Client({ ...config });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };

  const connectTo = async (database: string, onDispose?: () => Promise<void>): Promise<SqlDriverAdapter> => {
    const pool = newPool(database);
    const adapter = await new PrismaPg(pool, { schema }).connect();
    return wrapAdapter(adapter, {
      dispose: async () => {
        await adapter.dispose(); // detaches the adapter's listener; we own the pool
        await endPool(pool);
        await onDispose?.();
      },
    });
  };

  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: 'postgres',
    adapterName: new PrismaPg(config).adapterName,
    connect: () => connectTo(config.database as string),
    /**
     * Pitfall 4: the adapter's own shadow lifecycle drops the shadow database before closing the pool that is
     * still connected to it; the drop fails ("being accessed by other users") and the database leaks. Ours:
     * create it, and on dispose close the pool first, then DROP DATABASE … WITH (FORCE).
     */
    connectToShadowDb: async () => {
      const name = `prisma_migrate_shadow_db_${randomUUID().replaceAll('-', '_')}`;
      await admin(`CREATE DATABASE ${quoteIdent(name)}`);
      shadows.add(name);
      const drop = async () => {
        if (shadows.delete(name)) await admin(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
      };
      try {
        return await connectTo(name, drop);
      } catch (e) {
        await drop();
        throw e;
      }
    },
  };

  return {
    factory,
    close: async () => {
      for (const pool of [...pools]) await endPool(pool);
      for (const name of [...shadows]) {
        shadows.delete(name);
        await admin(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`).catch(() => {});
      }
    },
  };
}

export function migrationAdapter(url: string): MigrationAdapter {
  return providerOf(url) === 'postgresql' ? pgAdapter(url) : sqliteAdapter(url);
}
