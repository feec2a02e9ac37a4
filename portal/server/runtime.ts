import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CatalogStore } from '@bank/catalog';
import { CatalogService } from '@bank/plugin-catalog';

/** The repository root (portal/..): where services/ and data/ are. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `--db`, else DATABASE_URL, else the embedded SQLite file under data/. */
export function databaseUrl(flag?: string): string {
  return flag ?? process.env.DATABASE_URL ?? `file:${path.join(REPO_ROOT, 'data', 'portal.db')}`;
}

/** Where ingest reads by default: PORTAL_CATALOG_ROOT, else the bank's estate in services/. */
export function defaultRoots(): string[] {
  return [path.resolve(process.env.PORTAL_CATALOG_ROOT ?? path.join(REPO_ROOT, 'services'))];
}

/** The scorecard files (YAML, reviewed like code): PORTAL_SCORECARDS_DIR, else scorecards/ at the repo root. */
export function scorecardsDir(): string {
  return path.resolve(process.env.PORTAL_SCORECARDS_DIR ?? path.join(REPO_ROOT, 'scorecards'));
}

/** The scaffolder's templates (scorecards read their current versions): templates/ at the repo root. */
export function templatesDir(): string {
  return path.join(REPO_ROOT, 'templates');
}

/** Open the catalogue: store (migrated), ingester, and the current view loaded. */
export async function openCatalog(dbUrl: string, roots = defaultRoots()): Promise<CatalogService> {
  const store = await CatalogStore.open(dbUrl);
  const catalog = new CatalogService(store, roots);
  await catalog.view();
  return catalog;
}
