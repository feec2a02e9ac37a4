import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient as PgClient } from './generated/postgresql/client.ts';
import { PrismaClient as SqliteClient } from './generated/sqlite/client.ts';
import { pgConfig, providerOfUrl, sqliteFile } from './sql.ts';

/** Both generated clients have the same models; code is typed against one of them. */
export type PortalPrisma = InstanceType<typeof SqliteClient>;

/**
 * Prisma Client through a driver adapter (no native engine): better-sqlite3 for the embedded file,
 * pg for PostgreSQL. Used for the store's low-volume tables (audit log, locations, tokens); bulk ingest
 * goes through the raw driver (store/sql.ts).
 */
export function openPrisma(url: string): PortalPrisma {
  if (providerOfUrl(url) === 'postgresql') {
    return new PgClient({ adapter: new PrismaPg(pgConfig(url)) }) as unknown as PortalPrisma;
  }
  return new SqliteClient({ adapter: new PrismaBetterSqlite3({ url: `file:${sqliteFile(url)}` }) });
}
