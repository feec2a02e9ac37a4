import path from 'node:path';
import { tempDir } from './temp.ts';

export interface TestDatabase {
  name: 'sqlite' | 'postgresql';
  /** Why this database cannot run here; undefined when it can. Under CI=true a missing one is an error. */
  skip?: string;
  /** A fresh, empty database for one test. */
  create(): Promise<string>;
}

let counter = 0;

/**
 * The databases every store suite runs on: a real SQLite file, and a real PostgreSQL (the throwaway cluster
 * that `npm test` starts; its URL arrives in TEST_PG_URL). Each create() gives a new empty database.
 */
export function testDatabases(): TestDatabase[] {
  const pgUrl = process.env.TEST_PG_URL;
  if (!pgUrl && process.env.CI === 'true') {
    throw new Error(
      'TEST_PG_URL is not set: in CI the PostgreSQL suites must run (npm test starts PostgreSQL)',
    );
  }
  return [
    {
      name: 'sqlite',
      create: async () => `file:${path.join(tempDir('portal-db-'), 'portal.db')}`,
    },
    {
      name: 'postgresql',
      skip: pgUrl ? undefined : 'PostgreSQL is not running (npm test starts it; TEST_PG_URL is unset)',
      create: async () => {
        // @ts-expect-error: plain ESM helper without types
        const { createDatabase } = await import('../../../scripts/pg-harness.mjs');
        const name = `t_${process.pid}_${Date.now().toString(36)}_${++counter}`;
        return (await createDatabase(pgUrl, name)) as string;
      },
    },
  ];
}
