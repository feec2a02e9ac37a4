import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import Database from 'better-sqlite3';
import type pg from 'pg';
import { translateDatabaseError } from './unavailable.ts';

export type Provider = 'sqlite' | 'postgresql';

/**
 * The raw driver under the store, for bulk reads and writes (toolchain-notes: ~50× faster than Prisma's
 * createMany for 10k+ rows). SQL is written with `?` placeholders; the PostgreSQL driver renumbers them.
 */
export interface SqlDriver {
  readonly provider: Provider;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  exec(sql: string, params?: unknown[]): Promise<number>;
  /** Call `fn` for each row; SQLite streams them, so a big table is never all in memory as rows at once. */
  each<T = Record<string, unknown>>(sql: string, params: unknown[], fn: (row: T) => void): Promise<void>;
  /** each() with every row as an array of its columns in SELECT order: no object made per row. */
  eachRow(sql: string, params: unknown[], fn: (row: unknown[]) => void): Promise<void>;
  /** Insert many rows in as few statements as the database allows. */
  insertMany(table: string, columns: string[], rows: unknown[][]): Promise<void>;
  /** Run `fn` in one transaction: all of it is written, or none. */
  transaction<T>(fn: (tx: SqlDriver) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export function providerOfUrl(url: string): Provider {
  return /^postgres(ql)?:\/\//.test(url) ? 'postgresql' : 'sqlite';
}

/** `file:./data/portal.db`, `file:/abs.db` or a bare path → an absolute file path. */
export function sqliteFile(url: string): string {
  const p = url.replace(/^file:/, '');
  return path.resolve(p);
}

export function openDriver(url: string): SqlDriver {
  let inner: SqlDriver;
  try {
    inner = providerOfUrl(url) === 'postgresql' ? new PgDriver(url) : new SqliteDriver(sqliteFile(url));
  } catch (err) {
    throw translateDatabaseError(err, url);
  }
  return new TranslatingDriver(inner, url);
}

/**
 * Every driver error that means "the database is unavailable" (down, read-only, full, locked) leaves the
 * store as a DatabaseUnavailableError naming the database, never as the driver's text (which for
 * PostgreSQL carries host and port).
 */
class TranslatingDriver implements SqlDriver {
  constructor(
    private inner: SqlDriver,
    private url: string,
  ) {}
  get provider(): Provider {
    return this.inner.provider;
  }
  private async run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw translateDatabaseError(err, this.url);
    }
  }
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]> {
    return this.run(() => this.inner.query<T>(sql, params));
  }
  exec(sql: string, params?: unknown[]): Promise<number> {
    return this.run(() => this.inner.exec(sql, params));
  }
  each<T = Record<string, unknown>>(sql: string, params: unknown[], fn: (row: T) => void): Promise<void> {
    return this.run(() => this.inner.each<T>(sql, params, fn));
  }
  eachRow(sql: string, params: unknown[], fn: (row: unknown[]) => void): Promise<void> {
    return this.run(() => this.inner.eachRow(sql, params, fn));
  }
  insertMany(table: string, columns: string[], rows: unknown[][]): Promise<void> {
    return this.run(() => this.inner.insertMany(table, columns, rows));
  }
  transaction<T>(fn: (tx: SqlDriver) => Promise<T>): Promise<T> {
    return this.run(() => this.inner.transaction((tx) => fn(new TranslatingDriver(tx, this.url))));
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

const q = (ident: string) => `"${ident}"`;

/** How long a SQLite write waits for another process's write to finish before giving up. */
const BUSY_TIMEOUT_MS = 5000;

/** A transaction that holds the SQLite connection; resolved when it has committed or rolled back. */
interface OpenTransaction {
  done: Promise<void>;
}

/**
 * One better-sqlite3 connection, shared by every caller given this driver (the catalogue store's is shared
 * by deploys, scorecards and the scaffolder's tasks; the traffic store opens its own connection to the same
 * file). A transaction holds that connection across awaits, so while one is open, statements from other
 * callers wait for it to end: otherwise they would run inside it, and its rollback would undo writes already
 * reported to their callers as done. Statements issued from within the transaction's own async context
 * (AsyncLocalStorage), including nested transaction() calls, run in it.
 *
 * A transaction's body must await only this driver's statements, never the event loop (timers,
 * setImmediate, file or network I/O). Its statements run synchronously, so today no other code runs while
 * it holds SQLite's write lock. If it yielded, another connection to the file in this process (the traffic
 * store's) could start a write: better-sqlite3 would then block the whole thread for busy_timeout (5 s)
 * waiting for a lock that only this transaction, stuck behind the blocked thread, can release, and that
 * write would fail as SQLITE_BUSY. Seen when the demo deploy load was made to yield between chunks.
 */
class SqliteDriver implements SqlDriver {
  readonly provider = 'sqlite' as const;
  private db: Database.Database;
  private stmts = new Map<string, Database.Statement>();
  private open: OpenTransaction | undefined;
  private readonly context = new AsyncLocalStorage<OpenTransaction>();
  constructor(private file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    this.db.pragma('foreign_keys = ON');
  }
  private prepare(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      if (this.stmts.size > 500) this.stmts.clear();
      this.stmts.set(sql, s);
    }
    return s;
  }
  /** True when another caller's transaction holds the connection. */
  private blocked(): boolean {
    return this.open !== undefined && this.context.getStore() !== this.open;
  }
  /** Wait until no other caller's transaction is open. Callers run their statement synchronously after. */
  private async turn(): Promise<void> {
    while (this.open && this.context.getStore() !== this.open) await this.open.done;
  }
  async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    if (this.blocked()) await this.turn();
    return this.prepare(sql).all(...params.map(toSqlite)) as T[];
  }
  async exec(sql: string, params: unknown[] = []): Promise<number> {
    if (this.blocked()) await this.turn();
    return this.prepare(sql).run(...params.map(toSqlite)).changes;
  }
  async each<T>(sql: string, params: unknown[], fn: (row: T) => void): Promise<void> {
    if (this.blocked()) await this.turn();
    for (const row of this.db.prepare(sql).iterate(...params.map(toSqlite))) fn(row as T);
  }
  async eachRow(sql: string, params: unknown[], fn: (row: unknown[]) => void): Promise<void> {
    if (this.blocked()) await this.turn();
    for (const row of this.db
      .prepare(sql)
      .raw()
      .iterate(...params.map(toSqlite)))
      fn(row as unknown[]);
  }
  async insertMany(table: string, columns: string[], rows: unknown[][]): Promise<void> {
    if (rows.length === 0) return;
    if (this.blocked()) await this.turn();
    // Multi-row statements: one call into SQLite per batch instead of per row.
    const per = Math.max(1, Math.min(200, Math.floor(30000 / columns.length)));
    const tuple = `(${columns.map(() => '?').join(', ')})`;
    const head = `INSERT INTO ${q(table)} (${columns.map(q).join(', ')}) VALUES `;
    for (let start = 0; start < rows.length; start += per) {
      const chunk = rows.slice(start, start + per);
      const stmt = this.prepare(head + new Array(chunk.length).fill(tuple).join(', '));
      const values: unknown[] = [];
      for (const row of chunk) for (const v of row) values.push(toSqlite(v));
      stmt.run(...values);
    }
  }
  async transaction<T>(fn: (tx: SqlDriver) => Promise<T>): Promise<T> {
    // Nested in our own transaction: part of it.
    if (this.open && this.context.getStore() === this.open) return fn(this);
    // The check and the claim happen in one synchronous step after each wake-up, so two waiters never
    // both take the connection.
    while (this.open) await this.open.done;
    let release = () => {};
    const mine: OpenTransaction = { done: new Promise<void>((resolve) => (release = resolve)) };
    this.open = mine;
    try {
      try {
        this.db.exec('BEGIN IMMEDIATE');
      } catch (err) {
        if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
        throw new Error(
          `The catalogue database ${this.file} is busy: another process (a running portal, another \`portal ingest\`) has been writing to it for over ${BUSY_TIMEOUT_MS / 1000} s. Nothing was written; try again (a running portal's watcher retries by itself)`,
          { cause: err },
        );
      }
      try {
        const result = await this.context.run(mine, () => fn(this));
        this.db.exec('COMMIT');
        return result;
      } catch (err) {
        // SQLite has already rolled back after some errors (a read-only file, a full disk); a second
        // ROLLBACK would hide the real cause behind "cannot rollback - no transaction is active".
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw err;
      }
    } finally {
      this.open = undefined;
      release();
    }
  }
  async close(): Promise<void> {
    if (this.open) await this.open.done.catch(() => undefined);
    this.db.close();
  }
}

function toSqlite(v: unknown): unknown {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Date) return v.toISOString();
  return v;
}

/** Build the pool from discrete fields (toolchain-notes pitfall 3: never a connectionString). */
/** pg, loaded when a PostgreSQL store is opened: a SQLite portal never pays for it. */
function loadPg(): typeof pg {
  return createRequire(import.meta.url)('pg') as typeof pg;
}

export function pgConfig(url: string): pg.PoolConfig {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 5432,
    user: decodeURIComponent(u.username || 'postgres'),
    password: u.password ? decodeURIComponent(u.password) : undefined,
    database: decodeURIComponent(u.pathname.replace(/^\//, '') || 'postgres'),
    max: 4,
    idleTimeoutMillis: 1000,
    allowExitOnIdle: true,
  };
}

function numbered(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

class PgDriver implements SqlDriver {
  readonly provider = 'postgresql' as const;
  private pool: pg.Pool | undefined;
  private client: pg.PoolClient | undefined;
  constructor(
    private url: string,
    client?: pg.PoolClient,
  ) {
    if (client) this.client = client;
    else {
      this.pool = new (loadPg().Pool)(pgConfig(url));
      // An idle connection that dies (PostgreSQL restarted, a network cut) is reported here; without a
      // listener it would crash the process. The next query opens a fresh connection, or fails with 503.
      this.pool.on('error', () => {});
    }
  }
  private runner(): pg.Pool | pg.PoolClient {
    return (this.client ?? this.pool) as pg.Pool | pg.PoolClient;
  }
  async query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const r = await this.runner().query(numbered(sql), params);
    return r.rows as T[];
  }
  async exec(sql: string, params: unknown[] = []): Promise<number> {
    const r = await this.runner().query(numbered(sql), params);
    return r.rowCount ?? 0;
  }
  async each<T>(sql: string, params: unknown[], fn: (row: T) => void): Promise<void> {
    for (const row of await this.query<T>(sql, params)) fn(row);
  }
  async eachRow(sql: string, params: unknown[], fn: (row: unknown[]) => void): Promise<void> {
    const r = await this.runner().query({ text: numbered(sql), values: params, rowMode: 'array' });
    for (const row of r.rows as unknown[][]) fn(row);
  }
  async insertMany(table: string, columns: string[], rows: unknown[][]): Promise<void> {
    // One statement per chunk of rows; PostgreSQL takes at most 65,535 parameters.
    const per = Math.max(1, Math.floor(60000 / columns.length));
    for (let start = 0; start < rows.length; start += per) {
      const chunk = rows.slice(start, start + per);
      const values: unknown[] = [];
      const tuples = chunk.map((row) => {
        const slots = row.map((v) => {
          values.push(v);
          return `$${values.length}`;
        });
        return `(${slots.join(', ')})`;
      });
      await this.runner().query(
        `INSERT INTO ${q(table)} (${columns.map(q).join(', ')}) VALUES ${tuples.join(', ')}`,
        values,
      );
    }
  }
  async transaction<T>(fn: (tx: SqlDriver) => Promise<T>): Promise<T> {
    if (this.client) return fn(this);
    const client = await (this.pool as pg.Pool).connect();
    // pg-pool takes its own 'error' listener off a client while it is checked out: a connection that dies
    // mid-transaction would emit an unhandled 'error' and end the process. The pending query rejects anyway
    // (and leaves as DatabaseUnavailableError), so the event itself needs no handling beyond being heard.
    const onError = () => {};
    client.on('error', onError);
    const tx = new PgDriver(this.url, client);
    try {
      await client.query('BEGIN');
      const result = await fn(tx);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.removeListener('error', onError);
      client.release();
    }
  }
  async close(): Promise<void> {
    await this.pool?.end();
  }
}
