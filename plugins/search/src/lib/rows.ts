import { ANNOTATION } from '@bank/catalog';
import type { CatalogView, ServedEntity } from '@bank/plugin-catalog';

/** One catalogue row: what the table and the typeahead show, flattened once per view. */
export interface CatalogueRow {
  ref: string;
  kind: string;
  namespace: string;
  name: string;
  title: string | null;
  type: string | null;
  description: string | null;
  owner: string | null;
  ownerTitle: string | null;
  collective: string | null;
  collectiveTitle: string | null;
  system: string | null;
  tier: string | null;
  lifecycle: string | null;
  tags: string[];
  stale: boolean;
  /**
   * Deploy state (only in /api/search/catalogue answers, when the portal keeps deploys): null for an
   * entity that is not a service.
   */
  deploy?: RowDeploy | null;
  /**
   * The production-readiness level (the scorecards plugin, when mounted): a level's name, `none` below the
   * lowest, null where no scorecard applies.
   */
  level?: string | null;
}

/**
 * Scorecard levels for the catalogue's level column and filter. The scorecards plugin answers it from the
 * scores it keeps in memory; the portal wires it in, so search does not depend on scorecards.
 */
export interface LevelColumnSource {
  /** Changes whenever a level does (rows with levels are kept per catalogue view and this version). */
  levelsVersion(): number;
  /** Every scored service's level: a level's name, or `none` below the lowest. */
  levels(): ReadonlyMap<string, string>;
}

const withLevelsCache = new WeakMap<CatalogueRow[], { version: number; rows: CatalogueRow[] }>();

/** The rows with their level, all at once (the level is a filter, so every row needs it, not just a page's). */
export function withLevels(rows: CatalogueRow[], source: LevelColumnSource): CatalogueRow[] {
  const version = source.levelsVersion();
  const hit = withLevelsCache.get(rows);
  if (hit && hit.version === version) return hit.rows;
  const levels = source.levels();
  const out = rows.map((r) => ({ ...r, level: levels.get(r.ref) ?? null }));
  withLevelsCache.set(rows, { version, rows: out });
  return out;
}

/** A service's deploy column: what runs in the last environment that runs it, and whether it changed. */
export interface RowDeploy {
  deployed: { environment: string; version: string; since: string; actor: string | null } | null;
  lastChangeAt: string | null;
  changed: boolean;
  demo: boolean;
}

const DESCRIPTION_MAX = 160;

function titleOf(e: ServedEntity | undefined): string | null {
  if (!e) return null;
  const profile = (e.spec as { profile?: { displayName?: unknown } } | undefined)?.profile;
  if (typeof profile?.displayName === 'string') return profile.displayName;
  return typeof e.metadata.title === 'string' ? e.metadata.title : null;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

/** Flattens every entity of a view into rows (owner, collective and system resolved through relations). */
export function buildRows(view: CatalogView): CatalogueRow[] {
  const rows: CatalogueRow[] = [];
  for (const [ref, e] of view.byRef) {
    const spec = (e.spec ?? {}) as Record<string, unknown>;
    const { owner, collective } = view.ownerOf(ref);
    // A group's own row: the collective above it (a collective is its own).
    const coll = e.kind.toLowerCase() === 'group' ? view.collectiveOf(ref) : (collective ?? null);
    const system = e.relations.find(
      (r) => r.type === 'partOf' && r.targetRef.startsWith('system:'),
    )?.targetRef;
    const description = str(e.metadata.description);
    rows.push({
      ref,
      kind: e.kind.toLowerCase(),
      namespace: e.metadata.namespace ?? 'default',
      name: e.metadata.name,
      title: titleOf(e),
      type: str(spec.type),
      description:
        description && description.length > DESCRIPTION_MAX
          ? `${description.slice(0, DESCRIPTION_MAX - 1)}…`
          : description,
      owner: owner ?? null,
      ownerTitle: owner ? titleOf(view.byRef.get(owner)) : null,
      collective: coll,
      collectiveTitle: coll ? titleOf(view.byRef.get(coll)) : null,
      system: system ?? null,
      tier: str(e.metadata.annotations?.[ANNOTATION.tier]),
      lifecycle: str(spec.lifecycle),
      tags: Array.isArray(e.metadata.tags)
        ? e.metadata.tags.filter((t): t is string => typeof t === 'string')
        : [],
      stale: view.stale.has(ref),
    });
  }
  rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.ref < b.ref ? -1 : 1));
  return rows;
}

/** Rows per view: a view never changes, and a new ingest makes a new one, so identity is the cache key. */
const cache = new WeakMap<CatalogView, CatalogueRow[]>();

export function rowsOf(view: CatalogView): CatalogueRow[] {
  let rows = cache.get(view);
  if (!rows) {
    rows = buildRows(view);
    cache.set(view, rows);
  }
  return rows;
}
