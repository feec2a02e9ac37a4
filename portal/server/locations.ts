import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Where things are, without opening anything: the CLI's fast paths (help, a snapshot) need these alone.

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

/**
 * Where the catalogue snapshot of this database is kept (see plugins/catalog/src/snapshot.ts): beside a
 * SQLite file (data/portal.db → data/portal.graph.snapshot); for PostgreSQL under data/, named after the
 * database's address (never its password).
 */
export function snapshotFileFor(dbUrl: string): string {
  if (!/^postgres(ql)?:\/\//.test(dbUrl)) {
    const file = path.resolve(dbUrl.replace(/^file:/, ''));
    return path.join(path.dirname(file), `${path.basename(file).replace(/\.db$/, '')}.graph.snapshot`);
  }
  const u = new URL(dbUrl);
  const key = createHash('sha256').update(`${u.hostname}:${u.port}${u.pathname}${u.search}`).digest('hex');
  return path.join(REPO_ROOT, 'data', `pg-${key.slice(0, 16)}.graph.snapshot`);
}

/** Where the built graph index of this database is saved (see graph/src/saved-index.ts): beside its snapshot. */
export function graphIndexFileFor(dbUrl: string): string {
  return graphIndexFileBeside(snapshotFileFor(dbUrl));
}

/** data/portal.graph.snapshot → data/portal.graph.index (never the snapshot's own name). */
export function graphIndexFileBeside(snapshotFile: string): string {
  const suffix = '.graph.snapshot';
  return snapshotFile.endsWith(suffix)
    ? `${snapshotFile.slice(0, -suffix.length)}.graph.index`
    : `${snapshotFile}.index`;
}

/**
 * Which database a URL names, comparable between processes (a running portal says it on /healthz, the CLI
 * asks that portal only when it serves the CLI's own database): a SQLite file's real path, or PostgreSQL's
 * host, port and database (never the user or password).
 */
export function databaseIdentity(dbUrl: string): string {
  if (/^postgres(ql)?:\/\//.test(dbUrl)) {
    const u = new URL(dbUrl);
    return `postgresql://${u.hostname}:${u.port || '5432'}${u.pathname}`;
  }
  const file = path.resolve(dbUrl.replace(/^file:/, ''));
  try {
    return `sqlite:${realpathSync(file)}`;
  } catch {
    return `sqlite:${file}`;
  }
}
