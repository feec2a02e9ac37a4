import { existsSync } from 'node:fs';
import path from 'node:path';
import type { CatalogService, CatalogView } from '@bank/plugin-catalog';
import { isSnapshot, readSnapshot } from '@bank/plugin-catalog/snapshot';
import { CatalogView as View } from '@bank/plugin-catalog/view';
import { snapshotFileFor } from '../server/locations.ts';

/**
 * The catalogue view for a read-only command: from the snapshot beside the store when it is of the store's
 * current generation (one small query, no Prisma, no reading every row), else from the store, which writes
 * a fresh snapshot as it loads. An unreadable snapshot is said on stderr and rebuilt; the store is the truth.
 */
export async function localView(
  dbUrl: string,
  open: () => Promise<CatalogService>,
  warn: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<CatalogView> {
  const file = snapshotFileFor(dbUrl);
  const snap = readSnapshot(file);
  if (isSnapshot(snap)) {
    if ((await storeFacts(dbUrl))?.generation === snap.generation)
      return new View(snap.entities, snap.relations);
  } else if (snap.kind !== 'missing') {
    warn(`portal: the catalogue snapshot ${file} ${snap.message}; rebuilding it from the database`);
  }
  return (await open()).view();
}

/** What one small query tells about the store, or undefined when it cannot be read cheaply. */
export interface StoreFacts {
  generation: number;
  /** Whether traces were ever taken in (observed call edges to merge into the graph). */
  observed: boolean;
}

/** The store's generation and whether it holds observed traffic; undefined: no file yet, not migrated. */
export async function storeFacts(dbUrl: string): Promise<StoreFacts | undefined> {
  const generation = 'SELECT "generation" FROM "CatalogState" WHERE "id" = 1';
  const observed = [
    'SELECT 1 AS "any" FROM "TrafficEdge" LIMIT 1',
    'SELECT 1 AS "any" FROM "TrafficJournal" LIMIT 1',
  ];
  try {
    if (/^postgres(ql)?:\/\//.test(dbUrl)) {
      const { openDriver } = await import('@bank/catalog/sql');
      const driver = openDriver(dbUrl);
      try {
        const rows = await driver.query<{ generation: number | string }>(generation);
        let any = false;
        for (const q of observed) any ||= (await driver.query(q).catch(() => [])).length > 0;
        return { generation: Number(rows[0]?.generation ?? 0), observed: any };
      } finally {
        await driver.close();
      }
    }
    // As sqliteFile() in catalog/src/store/sql.ts, without loading both database drivers.
    const file = path.resolve(dbUrl.replace(/^file:/, ''));
    if (!existsSync(file)) return undefined;
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const row = db.prepare(generation).get() as { generation: number } | undefined;
      const any = observed.some((q) => {
        try {
          return db.prepare(q).get() !== undefined;
        } catch {
          return false; // an older store without the traffic tables
        }
      });
      return { generation: Number(row?.generation ?? 0), observed: any };
    } finally {
      db.close();
    }
  } catch {
    return undefined;
  }
}
