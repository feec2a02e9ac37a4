import { CatalogStore } from '@bank/catalog';
import { CatalogService } from '@bank/plugin-catalog';
import { defaultRoots, snapshotFileFor } from './locations.ts';

export {
  databaseUrl,
  defaultRoots,
  REPO_ROOT,
  scorecardsDir,
  snapshotFileFor,
  templatesDir,
} from './locations.ts';

/** Open the catalogue: store (migrated), ingester, and the current view loaded. */
export async function openCatalog(dbUrl: string, roots = defaultRoots()): Promise<CatalogService> {
  const store = await CatalogStore.open(dbUrl);
  const catalog = new CatalogService(store, roots, { snapshotFile: snapshotFileFor(dbUrl) });
  await catalog.view();
  return catalog;
}
