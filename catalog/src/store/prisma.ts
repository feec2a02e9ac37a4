import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient as PgClient } from './generated/postgresql/client.ts';
import { PrismaClient as SqliteClient } from './generated/sqlite/client.ts';
import { pgConfig, providerOfUrl, sqliteFile } from './sql.ts';
import { translateDatabaseError } from './unavailable.ts';

/** Both generated clients have the same models; code is typed against one of them. */
export type PortalPrisma = InstanceType<typeof SqliteClient>;

/**
 * Prisma Client through a driver adapter (no native engine): better-sqlite3 for the embedded file,
 * pg for PostgreSQL. Used for the store's low-volume tables (audit log, locations, tokens); bulk ingest
 * goes through the raw driver (store/sql.ts).
 */
export function openPrisma(url: string): PortalPrisma {
  const client =
    providerOfUrl(url) === 'postgresql'
      ? (new PgClient({ adapter: new PrismaPg(pgPool(url)) }) as unknown as PortalPrisma)
      : new SqliteClient({ adapter: new PrismaBetterSqlite3({ url: `file:${sqliteFile(url)}` }) });
  // Same rule as the raw driver: an unavailable database leaves as DatabaseUnavailableError, not driver text.
  return client.$extends({
    query: {
      async $allOperations({ args, query }) {
        try {
          return await query(args);
        } catch (err) {
          throw translateDatabaseError(err, url);
        }
      },
    },
  }) as unknown as PortalPrisma;
}

/**
 * Our own pool for Prisma, so an idle connection that PostgreSQL drops (a restart, a network cut) is an
 * 'error' event we handle: unhandled, it would end the process. The next query opens a new connection and
 * fails as DatabaseUnavailableError while the database is away.
 */
function pgPool(url: string): pg.Pool {
  const pool = new pg.Pool(pgConfig(url));
  pool.on('error', () => {});
  return pool;
}
