import type { ServedEntity } from './view.ts';

/**
 * Backstage's catalog filter semantics (backstage-compat.md §3): each `filter=` param is a set and sets are
 * ORed; inside a set conditions are ANDed, a repeated key is ORed; a bare key means "exists". Matching is
 * on lowercased search rows: dotted paths, string array items also as `<path>.<item>=true`, relations as
 * `relations.<type>=<targetRef>` (read off the entity for the keys asked, see valuesAt).
 */
export type FilterSet = Map<string, string[] | null>;

export class FilterSyntaxError extends Error {}

/** Filter sets (ORed) per query, and conditions per set: enough for any page, bounded for a hostile one. */
export const MAX_FILTER_SETS = 50;
export const MAX_CONDITIONS_PER_SET = 500;

export function parseFilterParams(params: string[]): FilterSet[] {
  const nonEmpty = params.filter((p) => p.trim() !== '');
  if (nonEmpty.length > MAX_FILTER_SETS) {
    throw new FilterSyntaxError(
      `Too many filters: ${nonEmpty.length} filter parameters; at most ${MAX_FILTER_SETS} per query`,
    );
  }
  return nonEmpty.map((param) => {
    const set: FilterSet = new Map();
    const parts = param.split(',');
    if (parts.length > MAX_CONDITIONS_PER_SET) {
      throw new FilterSyntaxError(
        `Too many conditions in one filter: ${parts.length}; at most ${MAX_CONDITIONS_PER_SET} per filter`,
      );
    }
    for (const part of parts) {
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

/**
 * What an entity has at a filter key (lowercased), as Backstage's search rows would have it: the lowercased
 * values at that dotted path (arrays are looked through; a string item also gives `<path>.<item>` = "true";
 * values over 200 characters count as ""), or `relations.<type>` → the targets. Undefined when it has none.
 * Only the branches of the entity that can lead to the key are walked, so a filter over 100k entities
 * builds nothing per entity.
 */
export function valuesAt(entity: ServedEntity, key: string): string[] | undefined {
  if (key.length > 200) return undefined;
  const out: string[] = [];
  collect(entity, '', key, out);
  if (key.startsWith('relations.')) {
    for (const r of entity.relations) {
      if (`relations.${r.type}`.toLowerCase() === key) out.push(rowValue(r.targetRef));
    }
  }
  return out.length > 0 ? out : undefined;
}

// Module-level rather than closures in valuesAt: it runs once per entity per key, and closures made per call
// cost more than the walk (tsx names each one).
function rowValue(value: string): string {
  return value.length > 200 ? '' : value.toLowerCase();
}

function collect(value: unknown, p: string, key: string, out: string[]): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    for (const item of value) {
      if (typeof item === 'string' && `${p}.${item}`.toLowerCase() === key) out.push('true');
      collect(item, p, key, out);
    }
    return;
  }
  if (typeof value === 'object') {
    // A child's path is `<p>.<k>`: it leads to the key when the key goes on with k there, then ends or dots.
    const at = p ? p.length + 1 : 0;
    const o = value as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!p && k === 'relations') continue; // served from entity.relations (valuesAt)
      const lk = k.toLowerCase();
      const end = at + lk.length;
      if (!key.startsWith(lk, at) || (end !== key.length && key.charCodeAt(end) !== 46)) continue;
      collect(o[k], key.slice(0, end), key, out);
    }
    return;
  }
  if (p === key) out.push(rowValue(String(value)));
}

export function matches(entity: ServedEntity, sets: FilterSet[]): boolean {
  if (sets.length === 0) return true;
  for (const set of sets) if (matchesSet(entity, set)) return true;
  return false;
}

function matchesSet(entity: ServedEntity, set: FilterSet): boolean {
  for (const [key, values] of set) {
    const have = valuesAt(entity, key);
    if (!have) return false;
    if (values && !values.some((v) => have.includes(v))) return false;
  }
  return true;
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
export function facetValues(
  entities: readonly ServedEntity[],
  facet: string,
): { value: string; count: number }[] {
  const counts = new Map<string, number>();
  // Relations facet as Backstage's search rows have them: `relations.<type>` → each target ref of that type.
  const relationType = /^relations\.(.+)$/i.exec(facet)?.[1]?.toLowerCase();
  for (const e of entities) {
    const v = relationType
      ? (e.relations ?? []).filter((r) => r.type.toLowerCase() === relationType).map((r) => r.targetRef)
      : getPath(e, facet);
    const list = Array.isArray(v) ? v : v === undefined || v === null || typeof v === 'object' ? [] : [v];
    for (const item of new Set(list.filter((x) => typeof x !== 'object').map(String))) {
      counts.set(item, (counts.get(item) ?? 0) + 1);
    }
  }
  return [...counts]
    .map(([value, count]) => ({ value, count }))
    .sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));
}
