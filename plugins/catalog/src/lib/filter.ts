import type { ServedEntity } from './view.ts';

/**
 * Backstage's catalog filter semantics (backstage-compat.md §3): each `filter=` param is a set and sets are
 * ORed; inside a set conditions are ANDed, a repeated key is ORed; a bare key means "exists". Matching is
 * on lowercased search rows: dotted paths, string array items also as `<path>.<item>=true`, relations as
 * `relations.<type>=<targetRef>`.
 */
export type FilterSet = Map<string, string[] | null>;

export class FilterSyntaxError extends Error {}

export function parseFilterParams(params: string[]): FilterSet[] {
  return params
    .filter((p) => p.trim() !== '')
    .map((param) => {
      const set: FilterSet = new Map();
      for (const part of param.split(',')) {
        const eq = part.indexOf('=');
        const key = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase();
        if (!key)
          throw new FilterSyntaxError(
            `Invalid filter "${param}": a condition has an empty key; expected key=value`,
          );
        if (eq === -1) {
          if (!set.has(key)) set.set(key, null);
          continue;
        }
        const value = part
          .slice(eq + 1)
          .trim()
          .toLowerCase();
        const prev = set.get(key);
        set.set(key, [...(prev ?? []), value]);
      }
      return set;
    });
}

const rowsCache = new WeakMap<ServedEntity, Map<string, Set<string>>>();

/** The entity's search rows: lowercased key → lowercased values (an empty string value marks existence). */
export function searchRows(entity: ServedEntity): Map<string, Set<string>> {
  let rows = rowsCache.get(entity);
  if (rows) return rows;
  const out = new Map<string, Set<string>>();
  rows = out;
  const put = (key: string, value: string) => {
    if (key.length > 200) return;
    const k = key.toLowerCase();
    let s = out.get(k);
    if (!s) {
      s = new Set();
      out.set(k, s);
    }
    s.add(value.length > 200 ? '' : value.toLowerCase());
  };
  const walk = (value: unknown, p: string) => {
    if (value === null || value === undefined) return;
    if (Array.isArray(value)) {
      for (const item of value) {
        if (typeof item === 'string') put(`${p}.${item}`, 'true');
        walk(item, p);
      }
      return;
    }
    if (typeof value === 'object') {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) walk(v, p ? `${p}.${k}` : k);
      return;
    }
    put(p, String(value));
  };
  const { relations, ...rest } = entity;
  walk(rest, '');
  for (const r of relations) put(`relations.${r.type}`, r.targetRef);
  rowsCache.set(entity, rows);
  return rows;
}

export function matches(entity: ServedEntity, sets: FilterSet[]): boolean {
  if (sets.length === 0) return true;
  const rows = searchRows(entity);
  return sets.some((set) => {
    for (const [key, values] of set) {
      const have = rows.get(key);
      if (!have) return false;
      if (values && !values.some((v) => have.has(v))) return false;
    }
    return true;
  });
}

/** Read a dotted path, allowing keys that contain dots (`metadata.annotations.backstage.io/orphan`). */
export function getPath(obj: unknown, dotted: string): unknown {
  const parts = dotted.split('.');
  let cur: unknown = obj;
  let i = 0;
  while (i < parts.length) {
    if (cur === null || typeof cur !== 'object') return undefined;
    const o = cur as Record<string, unknown>;
    let found = false;
    for (let j = parts.length; j > i; j--) {
      const key = parts.slice(i, j).join('.');
      if (Object.hasOwn(o, key)) {
        cur = o[key];
        i = j;
        found = true;
        break;
      }
    }
    if (!found) return undefined;
  }
  return cur;
}

/** Keep only `fields` (dotted paths) of an entity, as Backstage's `fields=` does. */
export function pickFields(entity: ServedEntity, fields: string[]): Record<string, unknown> {
  if (fields.length === 0) return entity;
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    if (f.includes('[')) throw new FilterSyntaxError(`Invalid field "${f}": brackets are not supported`);
    const value = getPath(entity, f);
    if (value === undefined) continue;
    const parts = splitExisting(entity, f);
    let o = out;
    for (let i = 0; i < parts.length - 1; i++) {
      o[parts[i]] = (o[parts[i]] as Record<string, unknown>) ?? {};
      o = o[parts[i]] as Record<string, unknown>;
    }
    o[parts[parts.length - 1]] = value;
  }
  return out;
}

function splitExisting(obj: unknown, dotted: string): string[] {
  const parts = dotted.split('.');
  const out: string[] = [];
  let cur: unknown = obj;
  let i = 0;
  while (i < parts.length) {
    const o = (cur ?? {}) as Record<string, unknown>;
    let j = parts.length;
    for (; j > i + 1; j--) if (Object.hasOwn(o, parts.slice(i, j).join('.'))) break;
    const key = parts.slice(i, j).join('.');
    out.push(key);
    cur = o[key];
    i = j;
  }
  return out;
}

/** Values of a facet (dotted path) across entities, with counts; arrays count each item. */
export function facetValues(entities: ServedEntity[], facet: string): { value: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const e of entities) {
    const v = getPath(e, facet);
    const list = Array.isArray(v) ? v : v === undefined || v === null || typeof v === 'object' ? [] : [v];
    for (const item of new Set(list.filter((x) => typeof x !== 'object').map(String))) {
      counts.set(item, (counts.get(item) ?? 0) + 1);
    }
  }
  return [...counts]
    .map(([value, count]) => ({ value, count }))
    .sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));
}
