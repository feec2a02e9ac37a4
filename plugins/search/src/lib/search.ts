import type { CatalogueRow } from './rows.ts';

export interface SearchHit {
  ref: string;
  kind: string;
  name: string;
  title: string | null;
  type: string | null;
  owner: string | null;
  ownerTitle: string | null;
  tier: string | null;
  /** Which field matched: what the typeahead shows next to the name. */
  matched: 'name' | 'title' | 'tag' | 'owner';
}

export interface SearchResult {
  q: string;
  total: number;
  items: SearchHit[];
}

/** Kinds people look for most come first when two hits match equally well. */
const KIND_ORDER: Record<string, number> = {
  component: 0,
  system: 1,
  api: 2,
  group: 3,
  user: 4,
  resource: 5,
  domain: 6,
};

interface Prepared {
  row: CatalogueRow;
  name: string;
  title: string;
  tags: string[];
  owner: string;
  kindRank: number;
}

const prepared = new WeakMap<CatalogueRow[], Prepared[]>();

function prepare(rows: CatalogueRow[]): Prepared[] {
  let p = prepared.get(rows);
  if (!p) {
    p = rows.map((row) => ({
      row,
      name: row.name.toLowerCase(),
      title: (row.title ?? '').toLowerCase(),
      tags: row.tags.map((t) => t.toLowerCase()),
      owner: `${(row.owner ?? '').slice((row.owner ?? '').indexOf('/') + 1)} ${(row.ownerTitle ?? '').toLowerCase()}`,
      kindRank: KIND_ORDER[row.kind] ?? 9,
    }));
    prepared.set(rows, p);
  }
  return p;
}

/**
 * Instant search over every entity by name, title, tag and owner. Score: exact name, name prefix, name
 * contains, title, tag, owner (lower is better); ties by kind then name. Linear over the rows: 35,000
 * rows take a few milliseconds, less than building and keeping a trigram index would save.
 */
export function search(rows: CatalogueRow[], rawQuery: string, limit = 10): SearchResult {
  const q = rawQuery.trim().toLowerCase().slice(0, 100);
  if (q === '') return { q, total: 0, items: [] };
  const hits: { p: Prepared; score: number; matched: SearchHit['matched'] }[] = [];
  for (const p of prepare(rows)) {
    let score = -1;
    let matched: SearchHit['matched'] = 'name';
    if (p.name === q) score = 0;
    else if (p.name.startsWith(q)) score = 1;
    else if (p.name.includes(q)) score = 2;
    else if (p.title.includes(q)) {
      score = p.title.startsWith(q) ? 3 : 4;
      matched = 'title';
    } else if (p.tags.some((t) => t.includes(q))) {
      score = 5;
      matched = 'tag';
    } else if (p.owner.includes(q)) {
      score = 6;
      matched = 'owner';
    }
    if (score >= 0) hits.push({ p, score, matched });
  }
  hits.sort(
    (a, b) =>
      a.score - b.score ||
      a.p.kindRank - b.p.kindRank ||
      a.p.name.length - b.p.name.length ||
      (a.p.name < b.p.name ? -1 : a.p.name > b.p.name ? 1 : 0),
  );
  return {
    q,
    total: hits.length,
    items: hits.slice(0, limit).map(({ p, matched }) => ({
      ref: p.row.ref,
      kind: p.row.kind,
      name: p.row.name,
      title: p.row.title,
      type: p.row.type,
      owner: p.row.owner,
      ownerTitle: p.row.ownerTitle,
      tier: p.row.tier,
      matched,
    })),
  };
}
