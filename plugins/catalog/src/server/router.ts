import path from 'node:path';
import {
  checkReferences,
  closestRefs,
  type Entity,
  parseRef,
  stringifyRef,
  validateEntity,
} from '@bank/catalog';
import {
  type Auth,
  ConflictError,
  createApp,
  InputError,
  NotFoundError,
  noteAudit,
  PayloadTooLargeError,
  permissions,
  readJson,
} from '@bank/plugin-kit';
import type { Context, Hono } from 'hono';
import {
  FilterSyntaxError,
  facetValues,
  getPath,
  matches,
  parseFilterParams,
  pickFields,
} from '../lib/filter.ts';
import type { ServedEntity } from '../lib/view.ts';
import { type CatalogService, locationId, locationRef } from '../service.ts';

export interface CatalogRouterDeps {
  catalog: CatalogService;
  auth: Auth;
}

interface Cursor {
  o: number;
  f: string[];
  of?: string;
  t?: string;
  tf?: string[];
  q?: unknown;
}

/** Refs one `POST /entities/by-refs` may ask for. */
export const MAX_REFS_PER_REQUEST = 1000;
/** The largest by-refs answer, in characters of JSON. */
export const MAX_ANSWER_CHARS = 16 * 1024 * 1024;

/**
 * Backstage's catalog REST API (backstage-compat.md), so `@backstage/catalog-client` works unchanged.
 * Reads come from the in-memory view; writes (locations, refresh) need an authenticated caller.
 */
export function createCatalogRouter({ catalog, auth }: CatalogRouterDeps): Hono {
  const app = createApp();
  const view = () => catalog.loaded;
  const filterSets = (filterParams: string[]) => {
    try {
      return parseFilterParams(filterParams);
    } catch (err) {
      if (err instanceof FilterSyntaxError) throw new InputError(err.message);
      throw err;
    }
  };
  // The same filter over the same view is the same list (each page of a walk asks it again): computed once.
  // Callers never edit the list they get.
  const filtered = (filterParams: string[]): readonly ServedEntity[] => {
    const sets = filterSets(filterParams);
    const v = view();
    return v.remember(`filter\0${JSON.stringify(filterParams)}`, () =>
      v.all().filter((e) => matches(e, sets)),
    );
  };
  const fieldsOf = (raw: string | undefined) =>
    raw
      ? raw
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : [];
  const project = (entities: readonly ServedEntity[], fields: string[]) => {
    try {
      return entities.map((e) => pickFields(e, fields));
    } catch (err) {
      if (err instanceof FilterSyntaxError) throw new InputError(err.message);
      throw err;
    }
  };

  /**
   * A list of entities as JSON text: with no `fields`, each entity's text as the view keeps it (the same bytes
   * as stringifying it); with `fields`, the projected objects stringified.
   */
  const listText = (entities: readonly ServedEntity[], fields: string[]): Buffer<ArrayBuffer> => {
    if (fields.length > 0) return Buffer.from(JSON.stringify(project(entities, fields)));
    const v = view();
    const parts = new Array<Buffer>(entities.length * 2 + 1);
    parts[0] = OPEN_LIST;
    for (let i = 0; i < entities.length; i++) {
      parts[2 * i + 1] = v.bytes(entities[i]);
      parts[2 * i + 2] = i === entities.length - 1 ? CLOSE_LIST : COMMA;
    }
    if (entities.length === 0) parts[1] = CLOSE_LIST;
    return Buffer.concat(parts);
  };

  app.get('/entities', (c) => {
    let entities = filtered(c.req.queries('filter') ?? []);
    const order = c.req.queries('order') ?? [];
    if (order.length > 0) {
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
      entities = keyed.map((k) => k.e);
    }
    const limitRaw = c.req.query('limit');
    const offsetRaw = c.req.query('offset');
    const after = c.req.query('after');
    if (limitRaw === undefined && offsetRaw === undefined && after === undefined) {
      return jsonBody(c, listText(entities, fieldsOf(c.req.query('fields'))));
    }
    const limit = limitRaw === undefined ? entities.length : intParam('limit', limitRaw, 1);
    const offset =
      after !== undefined
        ? decodeAfter(after)
        : offsetRaw === undefined
          ? 0
          : intParam('offset', offsetRaw, 0);
    const page = entities.slice(offset, offset + limit);
    if (offset + limit < entities.length) {
      const next = new URL(c.req.url);
      next.searchParams.delete('offset');
      next.searchParams.set('after', Buffer.from(String(offset + limit)).toString('base64url'));
      c.header('Link', `<${next.pathname}${next.search}>; rel="next"`);
    }
    return jsonBody(c, listText(page, fieldsOf(c.req.query('fields'))));
  });

  const byQuery = (q: {
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
  }) => {
    let cur: Cursor;
    if (q.cursor) {
      try {
        cur = JSON.parse(Buffer.from(q.cursor, 'base64').toString('utf8')) as Cursor;
        if (typeof cur.o !== 'number' || !Array.isArray(cur.f)) throw new Error('shape');
      } catch {
        throw new InputError(
          'Invalid cursor: pass back the nextCursor or prevCursor of an earlier answer unchanged',
        );
      }
    } else {
      cur = {
        o: q.offset ?? 0,
        f: q.filter,
        of: q.orderField,
        t: q.fullTextTerm?.trim(),
        tf: q.fullTextFields,
      };
    }
    // Filtered, searched and ordered once per view and query: a walk's pages slice the same list.
    const v = view();
    const entities = v.remember(`query\0${JSON.stringify([cur.f, cur.t, cur.tf, cur.of])}`, () =>
      matching(cur),
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
      listText(items, q.fields),
      Buffer.from(`,"totalItems":${totalItems},"pageInfo":${JSON.stringify(pageInfo)}}`),
    ]);
  };

  const matching = (cur: Cursor): readonly ServedEntity[] => {
    let entities = filtered(cur.f);
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
  };

  app.get('/entities/by-query', (c) => {
    const limit = c.req.query('limit');
    const offset = c.req.query('offset');
    return jsonBody(
      c,
      byQuery({
        filter: c.req.queries('filter') ?? [],
        limit: limit === undefined ? undefined : intParam('limit', limit, 1),
        offset: offset === undefined ? undefined : intParam('offset', offset, 0),
        cursor: c.req.query('cursor'),
        orderField: (c.req.queries('orderField') ?? [])[0],
        fullTextTerm: c.req.query('fullTextFilterTerm'),
        fullTextFields: fieldsOf(c.req.query('fullTextFilterFields')),
        fields: fieldsOf(c.req.query('fields')),
        totalItems: c.req.query('totalItems'),
      }),
    );
  });

  app.post('/entities/by-query', async (c) => {
    const body = await readJson<{
      limit?: number;
      offset?: number;
      orderBy?: { field: string; order?: string }[];
      fullTextFilter?: { term?: string; fields?: string[] };
      fields?: string[];
      totalItems?: string;
      cursor?: string;
      query?: unknown;
    }>(c);
    const order = body.orderBy?.[0];
    return jsonBody(
      c,
      byQuery({
        filter: queryToFilters(body.query),
        limit: body.limit,
        offset: body.offset,
        cursor: body.cursor,
        orderField: order ? `${order.field},${order.order ?? 'asc'}` : undefined,
        fullTextTerm: body.fullTextFilter?.term,
        fullTextFields: body.fullTextFilter?.fields,
        fields: body.fields ?? [],
        totalItems: body.totalItems,
        viaPost: true,
      }),
    );
  });

  const byName = (kind: string, namespace: string, name: string) => {
    const ref = `${kind}:${namespace}/${name}`.toLowerCase();
    const entity = view().byRef.get(ref);
    if (!entity) {
      throw new NotFoundError(`No ${kind} named "${namespace}/${name}"`, {
        suggestions: closestRefs(ref, view().refs),
      });
    }
    return entity;
  };

  app.get('/entities/by-name/:kind/:namespace/:name', (c) =>
    jsonBody(c, view().bytes(byName(c.req.param('kind'), c.req.param('namespace'), c.req.param('name')))),
  );

  app.get('/entities/by-name/:kind/:namespace/:name/ancestry', (c) => {
    const entity = byName(c.req.param('kind'), c.req.param('namespace'), c.req.param('name'));
    const ref = `${entity.kind}:${entity.metadata.namespace}/${entity.metadata.name}`.toLowerCase();
    const location = entity.metadata.annotations?.['backstage.io/managed-by-location'] ?? '';
    return c.json({ rootEntityRef: ref, items: [{ entity, parentEntityRefs: [] }], location });
  });

  const byUid = (uid: string) => {
    const entity = view()
      .all()
      .find((e) => e.metadata.uid === uid);
    if (!entity) throw new NotFoundError(`No entity with uid "${uid}"`);
    return entity;
  };
  app.get('/entities/by-uid/:uid', (c) => jsonBody(c, view().bytes(byUid(c.req.param('uid')))));
  app.delete('/entities/by-uid/:uid', async (c) => {
    const found = view()
      .all()
      .find((e) => e.metadata.uid === c.req.param('uid'));
    const foundRef = found
      ? `${found.kind}:${found.metadata.namespace ?? 'default'}/${found.metadata.name}`.toLowerCase()
      : undefined;
    await auth.authorize(c, permissions.catalogEntityDelete, { ref: foundRef });
    noteAudit(c, { target: foundRef ?? `uid:${c.req.param('uid')}` });
    const entity = byUid(c.req.param('uid'));
    const ref = `${entity.kind}:${entity.metadata.namespace}/${entity.metadata.name}`.toLowerCase();
    // As in Backstage, an orphan (no location lists it any more) may be deleted; anything else would come
    // back with its file's next read, so the answer says where to delete it.
    if (entity.metadata.annotations?.['backstage.io/orphan'] === 'true') {
      await catalog.removeOrphan(ref);
      return c.body(null, 204);
    }
    const file = entity.metadata.annotations?.['backstage.io/managed-by-location']?.replace(/^file:/, '');
    throw new ConflictError(
      `${entity.kind}:${entity.metadata.name} is defined in ${file ? path.relative(process.cwd(), file) : 'a descriptor file'}; delete it there and it leaves the catalogue on the next ingest`,
    );
  });

  app.post('/entities/by-refs', async (c) => {
    const body = await readJson<{ entityRefs?: unknown; fields?: string[] }>(c);
    if (!Array.isArray(body.entityRefs))
      throw new InputError('Body must be {"entityRefs": ["kind:namespace/name", …]}');
    if (body.entityRefs.length > MAX_REFS_PER_REQUEST) {
      throw new PayloadTooLargeError(
        `entityRefs has ${body.entityRefs.length} refs; at most ${MAX_REFS_PER_REQUEST} per request: split the list`,
        { limit: MAX_REFS_PER_REQUEST },
      );
    }
    const sets = filterSets(c.req.queries('filter') ?? []);
    const fields = body.fields ?? [];
    // Serialised item by item so a list of large entities is refused once it passes the cap, not after
    // building the whole answer.
    const parts: string[] = [];
    let size = 0;
    for (const r of body.entityRefs) {
      const e = typeof r === 'string' ? view().byRef.get(r.toLowerCase()) : undefined;
      const json =
        e && matches(e, sets)
          ? fields.length > 0
            ? JSON.stringify(project([e], fields)[0])
            : view().json(e)
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
    return c.body(`{"items":[${parts.join(',')}]}`, 200, {
      'content-type': 'application/json; charset=UTF-8',
    });
  });

  const facets = (facetList: string[], filter: string[]) => {
    if (facetList.length === 0) throw new InputError('At least one facet is required, e.g. ?facet=kind');
    const entities = filtered(filter);
    // The answer's text, once per view, facets and filter.
    return view().remember(`facets\0${JSON.stringify([facetList, filter])}`, () =>
      JSON.stringify({ facets: Object.fromEntries(facetList.map((f) => [f, facetValues(entities, f)])) }),
    );
  };
  app.get('/entity-facets', (c) =>
    jsonBody(c, facets(c.req.queries('facet') ?? [], c.req.queries('filter') ?? [])),
  );
  app.post('/entity-facets', async (c) => {
    const body = await readJson<{ facets?: string[]; query?: unknown }>(c);
    return jsonBody(c, facets(body.facets ?? [], queryToFilters(body.query)));
  });

  // Refreshing one entity is for its owners (or admins); refreshing everything (no entityRef) for admins.
  app.post('/refresh', async (c) => {
    await auth.authenticate(c, permissions.catalogEntityRefresh);
    const body = await readJson<{ entityRef?: unknown }>(c, 4096);
    if (typeof body.entityRef !== 'string' || body.entityRef === '')
      throw new InputError('Body must be {"entityRef": "kind:namespace/name"}');
    // Only the entity's own file is read again (Backstage's semantics): never the whole catalogue.
    let ref: string;
    try {
      ref = stringifyRef(parseRef(body.entityRef));
    } catch (err) {
      throw new InputError((err as Error).message);
    }
    // Checked against the catalogue before it is recorded: the audit log never holds a caller's junk.
    if (!view().byRef.has(ref))
      throw new NotFoundError(`entityRef: no entity "${ref.slice(0, 200)}" in the catalogue`, {
        suggestions: closestRefs(ref, view().refs, 3),
      });
    noteAudit(c, { target: ref });
    await auth.authorize(c, permissions.catalogEntityRefresh, { ref });
    const result = await catalog.refreshEntity(ref);
    noteAudit(c, {
      details: { upserted: result?.upserted.length ?? 0, removed: result?.removed.length ?? 0 },
    });
    return c.body(null, 200);
  });

  app.post('/validate-entity', async (c) => {
    const body = await readJson<{ entity?: unknown; location?: string }>(c);
    const problems = await validateEntity(body.entity);
    if (problems.length === 0) {
      const known = view().refs;
      problems.push(
        ...checkReferences(body.entity as Entity, known, (raw) => closestRefs(raw, known, 3)).map((p) => ({
          path: p.path,
          message: p.message,
        })),
      );
    }
    if (problems.length === 0) return c.body(null, 200);
    return c.json(
      { errors: problems.map((p) => ({ name: 'InputError', message: p.message, path: p.path.join('.') })) },
      400,
    );
  });

  // Locations: the registered ones (Backstage's locations table). Only files inside the catalogue's roots.
  app.get('/locations', async (c) => c.json((await catalog.store.locations()).map((data) => ({ data }))));
  app.get('/locations/:id', async (c) => {
    const loc = (await catalog.store.locations()).find((l) => l.id === c.req.param('id'));
    if (!loc) throw new NotFoundError(`No location with id "${c.req.param('id')}"`);
    return c.json(loc);
  });
  app.get('/locations/by-entity/:kind/:namespace/:name', async (c) => {
    const entity = byName(c.req.param('kind'), c.req.param('namespace'), c.req.param('name'));
    // The location that brought the entity in: the registered one when there is one.
    const annotations = entity.metadata.annotations ?? {};
    const origin =
      annotations['backstage.io/managed-by-origin-location'] ??
      annotations['backstage.io/managed-by-location'] ??
      '';
    const [type, ...rest] = origin.split(':');
    const t = rest.join(':');
    const registered = (await catalog.store.locations()).find((l) => l.type === type && l.target === t);
    return c.json(
      registered ?? { id: locationId(type, t), type, target: t, entityRef: locationRef(type, t) },
    );
  });
  app.post('/locations', async (c) => {
    await auth.authorize(c, permissions.catalogLocationCreate);
    const body = await readJson<{ type?: unknown; target?: unknown }>(c);
    const keys = Object.keys(body ?? {});
    if (
      typeof body.type !== 'string' ||
      typeof body.target !== 'string' ||
      keys.some((k) => k !== 'type' && k !== 'target')
    ) {
      throw new InputError(
        'Body must be exactly {"type": "file" or "url", "target": "<path to a descriptor file, or its URL>"}',
      );
    }
    if (body.type !== 'file' && body.type !== 'url')
      throw new InputError(`Location type "${body.type}" is not supported; use "file" or "url"`);
    const dryRun = c.req.query('dryRun') === 'true';
    const r = await catalog.addLocation(
      body.type === 'file' ? body.target.replace(/^file:/, '') : body.target,
      {
        type: body.type,
        dryRun,
        onConflict: c.req.query('onConflict') === 'refresh' ? 'refresh' : 'reject',
      },
    );
    noteAudit(c, { target: r.location.target, ...(dryRun ? { details: { dryRun } } : {}) });
    // A dry run says whether the location is already registered, as Backstage's does.
    return c.json(
      { location: r.location, entities: r.entities, ...(dryRun || r.exists ? { exists: r.exists } : {}) },
      201,
    );
  });
  app.delete('/locations/:id', async (c) => {
    await auth.authorize(c, permissions.catalogLocationDelete);
    const id = c.req.param('id');
    if (!/^[\w-]{1,128}$/.test(id)) throw new InputError(`Location id "${id.slice(0, 64)}" is not an id`);
    noteAudit(c, { target: `location:${id}` });
    const { location, result } = await catalog.removeLocation(id);
    noteAudit(c, { target: location.target, details: { removed: result.removed.length } });
    return c.body(null, 204);
  });

  return app;
}

const OPEN_LIST = Buffer.from('[');
const CLOSE_LIST = Buffer.from(']');
const COMMA = Buffer.from(',');
const ITEMS = Buffer.from('{"items":');

/** A JSON answer already written as text or bytes, with the headers `c.json` gives. */
function jsonBody(c: Context, body: string | Uint8Array<ArrayBuffer>): Response {
  return c.body(body, 200, { 'content-type': 'application/json' });
}

function intParam(name: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min)
    throw new InputError(`"${name}" must be an integer ≥ ${min} but was "${raw}"`);
  return n;
}

function decodeAfter(after: string): number {
  const n = Number(Buffer.from(after, 'base64url').toString('utf8'));
  if (!Number.isInteger(n) || n < 0)
    throw new InputError('Invalid "after" cursor: pass back the one from the Link header');
  return n;
}

/** The POST predicate language, reduced to filter sets where it maps exactly ($all, $any, plain keys). */
function queryToFilters(query: unknown): string[] {
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
