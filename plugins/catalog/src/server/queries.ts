/**
 * The catalogue API's reads as Backstage's catalog-backend answers them: filters, ordering, full-text search,
 * offset and `after` paging (GET /entities), cursors (by-query), by-refs and facets. Each answer is JSON text
 * built from the entities' kept texts (the same bytes as stringifying the served objects). Over the view of
 * the moment: the same question asked again of the same view is answered from what it remembers.
 */
import { closestRefs, stringifyRef } from '@bank/catalog';
import { InputError, NotFoundError, PayloadTooLargeError } from '@bank/plugin-kit';
import {
  FilterSyntaxError,
  facetValues,
  getPath,
  matches,
  parseFilterParams,
  pickFields,
} from '../lib/filter.ts';
import type { CatalogView, ServedEntity } from '../lib/view.ts';

/** Refs one `POST /entities/by-refs` may ask for. */
export const MAX_REFS_PER_REQUEST = 1000;
/**
 * The largest by-refs body: 1,000 refs of the longest names the model allows (kind, namespace and name of 63
 * characters each: ~200 bytes a ref, quoted) and a list of fields fit. A body past it is refused while it
 * is read (413), so a flood of oversized bodies costs the server 256 KiB each, not the 1 MiB default.
 */
export const MAX_BY_REFS_BODY = 256 * 1024;
/** The largest by-refs answer, in characters of JSON. */
export const MAX_ANSWER_CHARS = 16 * 1024 * 1024;

/** GET /entities: a filtered, ordered list, whole or a page (offset or `after`). */
export interface EntityListQuery {
  filter: string[];
  /** `asc:<field>` / `desc:<field>`, in order of precedence. */
  order: string[];
  fields: string[];
  /** As given (checked after the filter, as Backstage does): a whole number ≥ 1. */
  limit?: string;
  /** As given: a whole number ≥ 0; not read when `after` is given. */
  offset?: string;
  /** The `after` cursor of a Link header. */
  after?: string;
}

/** /entities/by-query, GET or POST: a page of a filtered, searched, ordered list, walked by cursors. */
export interface EntityQuery {
  filter: string[];
  limit?: number;
  offset?: number;
  cursor?: string;
  orderField?: string;
  fullTextTerm?: string;
  fullTextFields?: string[];
  fields: string[];
  totalItems?: string;
  viaPost?: boolean;
}

/** What a by-query cursor holds: the offset and the query it pages through. */
interface Cursor {
  o: number;
  f: string[];
  of?: string;
  t?: string;
  tf?: string[];
  q?: unknown;
}

const OPEN_LIST = Buffer.from('[');
const CLOSE_LIST = Buffer.from(']');
const COMMA = Buffer.from(',');
const ITEMS = Buffer.from('{"items":');

export class EntityQueries {
  constructor(private readonly view: () => CatalogView) {}

  /** GET /entities: the list's text, and the offset of the next page when there is one. */
  list(q: EntityListQuery): { body: Buffer<ArrayBuffer>; nextOffset?: number } {
    return this.view().rememberAnswer(
      `list\0${JSON.stringify(q)}`,
      () => this.makeList(q),
      (a) => a.body.byteLength,
    );
  }

  private makeList(q: EntityListQuery): { body: Buffer<ArrayBuffer>; nextOffset?: number } {
    const entities = ordered(this.filtered(q.filter), q.order);
    if (q.limit === undefined && q.offset === undefined && q.after === undefined)
      return { body: this.listText(entities, q.fields) };
    const limit = q.limit === undefined ? entities.length : intParam('limit', q.limit, 1);
    const offset =
      q.after !== undefined
        ? decodeAfter(q.after)
        : q.offset === undefined
          ? 0
          : intParam('offset', q.offset, 0);
    const page = entities.slice(offset, offset + limit);
    const more = offset + limit < entities.length;
    return { body: this.listText(page, q.fields), ...(more ? { nextOffset: offset + limit } : {}) };
  }

  /** /entities/by-query: `{items, totalItems, pageInfo}` with next and previous cursors. */
  byQuery(q: EntityQuery): Buffer<ArrayBuffer> {
    return this.view().rememberAnswer(
      `by-query\0${JSON.stringify(q)}`,
      () => this.makeQueryPage(q),
      (b) => b.byteLength,
    );
  }

  private makeQueryPage(q: EntityQuery): Buffer<ArrayBuffer> {
    const cur = q.cursor
      ? decodeCursor(q.cursor)
      : { o: q.offset ?? 0, f: q.filter, of: q.orderField, t: q.fullTextTerm?.trim(), tf: q.fullTextFields };
    // Filtered, searched and ordered once per view and query: a walk's pages slice the same list.
    const entities = this.view().remember(`query\0${JSON.stringify([cur.f, cur.t, cur.tf, cur.of])}`, () =>
      this.matching(cur),
    );
    const limit = q.limit ?? 200;
    const items = entities.slice(cur.o, cur.o + limit);
    const encode = (o: number) =>
      Buffer.from(JSON.stringify({ ...cur, o, ...(q.viaPost ? { query: {} } : {}) })).toString('base64');
    const pageInfo = {
      ...(cur.o + limit < entities.length ? { nextCursor: encode(cur.o + limit) } : {}),
      ...(cur.o > 0 ? { prevCursor: encode(Math.max(0, cur.o - limit)) } : {}),
    };
    const totalItems = q.totalItems === 'exclude' ? 0 : entities.length;
    // JSON.stringify({items, totalItems, pageInfo}) with the items' kept texts.
    return Buffer.concat([
      ITEMS,
      this.listText(items, q.fields),
      Buffer.from(`,"totalItems":${totalItems},"pageInfo":${JSON.stringify(pageInfo)}}`),
    ]);
  }

  /** The refs in the catalogue. */
  refs(): CatalogView['refs'] {
    return this.view().refs;
  }

  /** An entity by kind, namespace and name; not found names the closest refs. */
  byName(kind: string, namespace: string, name: string): ServedEntity {
    const ref = stringifyRef({ kind, namespace, name });
    const entity = this.view().byRef.get(ref);
    if (!entity) {
      throw new NotFoundError(`No ${kind} named "${namespace}/${name}"`, {
        suggestions: closestRefs(ref, this.view().refs),
      });
    }
    return entity;
  }

  /** An entity by uid, if any. */
  findUid(uid: string): ServedEntity | undefined {
    return this.view()
      .all()
      .find((e) => e.metadata.uid === uid);
  }

  byUid(uid: string): ServedEntity {
    const entity = this.findUid(uid);
    if (!entity) throw new NotFoundError(`No entity with uid "${uid}"`);
    return entity;
  }

  /** The entity's kept JSON text. */
  bytes(entity: ServedEntity): Uint8Array<ArrayBuffer> {
    return this.view().bytes(entity);
  }

  /**
   * POST /entities/by-refs: `{items}` in the order asked, null for a ref missing or filtered out. Serialised
   * item by item so a list of large entities is refused once it passes the cap, not after building the whole
   * answer.
   */
  byRefs(refs: unknown, filter: string[], fields: string[]): string {
    if (!Array.isArray(refs)) throw new InputError('Body must be {"entityRefs": ["kind:namespace/name", …]}');
    if (refs.length > MAX_REFS_PER_REQUEST) {
      throw new PayloadTooLargeError(
        `entityRefs has ${refs.length} refs; at most ${MAX_REFS_PER_REQUEST} per request: split the list`,
        { limit: MAX_REFS_PER_REQUEST },
      );
    }
    const sets = filterSets(filter);
    const view = this.view();
    const parts: string[] = [];
    let size = 0;
    for (const r of refs) {
      const e = typeof r === 'string' ? view.byRef.get(r.toLowerCase()) : undefined;
      const json =
        e && matches(e, sets)
          ? fields.length > 0
            ? JSON.stringify(project([e], fields)[0])
            : view.json(e)
          : 'null';
      size += json.length + 1;
      if (size > MAX_ANSWER_CHARS) {
        throw new PayloadTooLargeError(
          `The answer would be over ${MAX_ANSWER_CHARS / 1048576} MB; ask for fewer refs or only some fields (fields: ["metadata.name", …])`,
          { limit: MAX_ANSWER_CHARS },
        );
      }
      parts.push(json);
    }
    return `{"items":[${parts.join(',')}]}`;
  }

  /** /entity-facets: each facet's values and counts over the filtered entities, as JSON text. */
  facets(facetList: string[], filter: string[]): string {
    if (facetList.length === 0) throw new InputError('At least one facet is required, e.g. ?facet=kind');
    const entities = this.filtered(filter);
    // The answer's text, once per view, facets and filter.
    return this.view().remember(`facets\0${JSON.stringify([facetList, filter])}`, () =>
      JSON.stringify({ facets: Object.fromEntries(facetList.map((f) => [f, facetValues(entities, f)])) }),
    );
  }

  // The same filter over the same view is the same list (each page of a walk asks it again): computed once.
  // Callers never edit the list they get.
  private filtered(filterParams: string[]): readonly ServedEntity[] {
    const sets = filterSets(filterParams);
    const v = this.view();
    return v.remember(`filter\0${JSON.stringify(filterParams)}`, () =>
      v.all().filter((e) => matches(e, sets)),
    );
  }

  private matching(cur: Cursor): readonly ServedEntity[] {
    let entities = this.filtered(cur.f);
    if (cur.t) {
      const term = cur.t.toLowerCase();
      const fields = cur.tf && cur.tf.length > 0 ? cur.tf : [cur.of?.split(',')[0] ?? 'metadata.uid'];
      entities = entities.filter((e) =>
        fields.some((f) =>
          String(getPath(e, f) ?? '')
            .toLowerCase()
            .includes(term),
        ),
      );
    }
    if (cur.of) {
      const [field, dirRaw] = cur.of.split(',');
      const dir = (dirRaw ?? 'asc').toLowerCase() === 'desc' ? -1 : 1;
      // Each entity's sort key is read once, not once per comparison.
      const keyed: { key: string; uid: string; e: ServedEntity }[] = [];
      for (const e of entities) {
        const v = getPath(e, field);
        if (v !== undefined) keyed.push({ key: String(v).toLowerCase(), uid: String(e.metadata.uid), e });
      }
      keyed.sort((a, b) => {
        if (a.key !== b.key) return a.key < b.key ? -dir : dir;
        return a.uid < b.uid ? -1 : 1;
      });
      entities = keyed.map((k) => k.e);
    }
    return entities;
  }

  /**
   * A list of entities as JSON text: with no `fields`, each entity's text as the view keeps it (the same bytes
   * as stringifying it); with `fields`, the projected objects stringified.
   */
  private listText(entities: readonly ServedEntity[], fields: string[]): Buffer<ArrayBuffer> {
    if (fields.length > 0) return Buffer.from(JSON.stringify(project(entities, fields)));
    const v = this.view();
    const parts = new Array<Buffer>(entities.length * 2 + 1);
    parts[0] = OPEN_LIST;
    for (let i = 0; i < entities.length; i++) {
      parts[2 * i + 1] = v.bytes(entities[i]);
      parts[2 * i + 2] = i === entities.length - 1 ? CLOSE_LIST : COMMA;
    }
    if (entities.length === 0) parts[1] = CLOSE_LIST;
    return Buffer.concat(parts);
  }
}

function filterSets(filterParams: string[]) {
  try {
    return parseFilterParams(filterParams);
  } catch (err) {
    if (err instanceof FilterSyntaxError) throw new InputError(err.message);
    throw err;
  }
}

function project(entities: readonly ServedEntity[], fields: string[]) {
  try {
    return entities.map((e) => pickFields(e, fields));
  } catch (err) {
    if (err instanceof FilterSyntaxError) throw new InputError(err.message);
    throw err;
  }
}

/** GET /entities' `order=asc:<field>&order=desc:<field>`: a stable sort by each field's text in turn. */
function ordered(entities: readonly ServedEntity[], order: string[]): readonly ServedEntity[] {
  if (order.length === 0) return entities;
  const specs = order.map((o) => {
    const m = /^(asc|desc):(.+)$/.exec(o);
    if (!m) throw new InputError(`Invalid order "${o}"; expected asc:<field> or desc:<field>`);
    return { dir: m[1] === 'asc' ? 1 : -1, field: m[2] };
  });
  const keyed = entities.map((e) => ({ e, keys: specs.map((s) => String(getPath(e, s.field) ?? '')) }));
  keyed.sort((a, b) => {
    for (let i = 0; i < specs.length; i++) {
      const x = a.keys[i];
      const y = b.keys[i];
      if (x !== y) return x < y ? -specs[i].dir : specs[i].dir;
    }
    return 0;
  });
  return keyed.map((k) => k.e);
}

function decodeCursor(cursor: string): Cursor {
  try {
    const cur = JSON.parse(Buffer.from(cursor, 'base64').toString('utf8')) as Cursor;
    if (typeof cur.o !== 'number' || !Array.isArray(cur.f)) throw new Error('shape');
    return cur;
  } catch {
    throw new InputError(
      'Invalid cursor: pass back the nextCursor or prevCursor of an earlier answer unchanged',
    );
  }
}

/** A whole-number query parameter, at least `min`. */
export function intParam(name: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min)
    throw new InputError(`"${name}" must be an integer ≥ ${min} but was "${raw}"`);
  return n;
}

/** The `after` cursor of GET /entities' Link header for the page starting at `offset`. */
export function encodeAfter(offset: number): string {
  return Buffer.from(String(offset)).toString('base64url');
}

function decodeAfter(after: string): number {
  const n = Number(Buffer.from(after, 'base64url').toString('utf8'));
  if (!Number.isInteger(n) || n < 0)
    throw new InputError('Invalid "after" cursor: pass back the one from the Link header');
  return n;
}

/** The POST predicate language, reduced to filter sets where it maps exactly ($all, $any, plain keys). */
export function queryToFilters(query: unknown): string[] {
  if (query === undefined || query === null) return [];
  const toSet = (q: Record<string, unknown>): string => {
    return Object.entries(q)
      .flatMap(([k, v]) => {
        if (k.startsWith('$'))
          throw new InputError(`Query operator "${k}" is only supported at the top level as $all or $any`);
        if (v && typeof v === 'object' && !Array.isArray(v)) {
          const o = v as Record<string, unknown>;
          if ('$exists' in o) return o.$exists ? [k] : [];
          if ('$in' in o && Array.isArray(o.$in)) return o.$in.map((x) => `${k}=${String(x)}`);
          throw new InputError(`Query on "${k}" uses an unsupported operator; use a value, $in or $exists`);
        }
        return (Array.isArray(v) ? v : [v]).map((x) => `${k}=${String(x)}`);
      })
      .join(',');
  };
  const q = query as Record<string, unknown>;
  if (Array.isArray(q.$any)) return (q.$any as Record<string, unknown>[]).map(toSet);
  if (Array.isArray(q.$all)) return [(q.$all as Record<string, unknown>[]).map(toSet).join(',')];
  return [toSet(q)];
}
