/**
 * For the actions' tests: the scaffolder's fixture monorepo (testing.ts) with its catalogue ingested into a
 * real SQLite store, and the environment an action runs in over it.
 */
import path from 'node:path';
import { CatalogStore } from '@bank/catalog';
import { CatalogService } from '@bank/plugin-catalog';
import { type FixtureRepo, makeFixtureRepo } from '../testing.ts';
import type { ScaffolderEnv } from '../types.ts';

export interface CatalogFixture {
  repo: FixtureRepo;
  catalog: CatalogService;
  env: ScaffolderEnv;
  close(): Promise<void>;
}

export async function catalogFixture(): Promise<CatalogFixture> {
  const repo = makeFixtureRepo();
  const store = await CatalogStore.open(`file:${path.join(repo.root, '.portal.db')}`);
  const catalog = new CatalogService(store, [path.join(repo.root, 'services')]);
  await catalog.ingest();
  const env: ScaffolderEnv = {
    repoRoot: repo.root,
    templatesDir: path.join(repo.root, 'templates'),
    servicesDir: path.join(repo.root, 'services'),
    catalog,
  };
  return {
    repo,
    catalog,
    env,
    close: async () => {
      await store.close();
      repo.cleanup();
    },
  };
}
