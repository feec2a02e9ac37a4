import path from 'node:path';
import {
  checkReferences,
  closestOfKind,
  closestRefs,
  type Entity,
  entityRef,
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
import { type CatalogService, locationId, locationRef } from '../service.ts';
import {
  EntityQueries,
  encodeAfter,
  intParam,
  MAX_BY_REFS_BODY,
  MAX_REFS_PER_REQUEST,
  queryToFilters,
} from './queries.ts';

export interface CatalogRouterDeps {
  catalog: CatalogService;
  auth: Auth;
}

type Handler = (c: Context) => Response | Promise<Response>;

/**
 * Backstage's catalog REST API (backstage-compat.md), so `@backstage/catalog-client` works unchanged.
 * Reads come from the in-memory view (queries.ts answers them); writes (locations, refresh) need an
 * authenticated caller.
 */
export function createCatalogRouter({ catalog, auth }: CatalogRouterDeps): Hono {
  const app = createApp();
  const queries = new EntityQueries(() => catalog.loaded);
  const read = readHandlers(queries);
  const write = writeHandlers(catalog, auth, queries);
  const locations = locationHandlers(catalog, auth, queries);
  app.get('/entities', read.list);
  app.get('/entities/by-query', read.byQuery);
  app.post('/entities/by-query', read.byQueryPosted);
  app.get('/entities/by-name/:kind/:namespace/:name', read.byName);
  app.get('/entities/by-name/:kind/:namespace/:name/ancestry', read.ancestry);
  app.get('/entities/by-uid/:uid', read.byUid);
  app.delete('/entities/by-uid/:uid', write.deleteByUid);
  app.post('/entities/by-refs', read.byRefs);
  app.get('/entity-facets', read.facets);
  app.post('/entity-facets', read.facetsPosted);
  app.post('/refresh', write.refresh);
  app.post('/validate-entity', read.validate);
  app.get('/locations', locations.list);
  app.get('/locations/:id', locations.byId);
  app.get('/locations/by-entity/:kind/:namespace/:name', locations.byEntity);
  app.post('/locations', locations.add);
  app.delete('/locations/:id', locations.remove);
  return app;
}

/** A JSON answer already written as text or bytes, with the headers `c.json` gives. */
function jsonBody(c: Context, body: string | Uint8Array<ArrayBuffer>): Response {
  return c.body(body, 200, { 'content-type': 'application/json' });
}

/** A comma-separated list parameter (`fields=kind,metadata.name`). */
function fieldsOf(raw: string | undefined): string[] {
  return raw
    ? raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
}

const nameOf = (c: Context): [string, string, string] => [
  c.req.param('kind') as string,
  c.req.param('namespace') as string,
  c.req.param('name') as string,
];

/** The requests each read route takes, turned into questions for EntityQueries. */
function readHandlers(queries: EntityQueries): Record<string, Handler> {
  return {
    list: (c) => {
      const { body, nextOffset } = queries.list({
        filter: c.req.queries('filter') ?? [],
        order: c.req.queries('order') ?? [],
        fields: fieldsOf(c.req.query('fields')),
        limit: c.req.query('limit'),
        offset: c.req.query('offset'),
        after: c.req.query('after'),
      });
      if (nextOffset !== undefined) {
        const next = new URL(c.req.url);
        next.searchParams.delete('offset');
        next.searchParams.set('after', encodeAfter(nextOffset));
        c.header('Link', `<${next.pathname}${next.search}>; rel="next"`);
      }
      return jsonBody(c, body);
    },
    byQuery: (c) => {
      const limit = c.req.query('limit');
      const offset = c.req.query('offset');
      return jsonBody(
        c,
        queries.byQuery({
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
    },
    byQueryPosted: async (c) => {
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
        queries.byQuery({
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
    },
    byName: (c) => jsonBody(c, queries.bytes(queries.byName(...nameOf(c)))),
    ancestry: (c) => {
      const entity = queries.byName(...nameOf(c));
      const ref = entityRef(entity);
      const location = entity.metadata.annotations?.['backstage.io/managed-by-location'] ?? '';
      return c.json({ rootEntityRef: ref, items: [{ entity, parentEntityRefs: [] }], location });
    },
    byUid: (c) => jsonBody(c, queries.bytes(queries.byUid(c.req.param('uid') as string))),
    byRefs: async (c) => {
      const body = await readJson<{ entityRefs?: unknown; fields?: string[] }>(c, MAX_BY_REFS_BODY).catch(
        (err: Error) => {
          if (!(err instanceof PayloadTooLargeError)) throw err;
          throw new PayloadTooLargeError(
            `Request body is larger than ${MAX_BY_REFS_BODY} bytes: at most ${MAX_REFS_PER_REQUEST} refs per ` +
              'request; split the list',
            { limit: MAX_REFS_PER_REQUEST, limitBytes: MAX_BY_REFS_BODY },
          );
        },
      );
      const text = queries.byRefs(body.entityRefs, c.req.queries('filter') ?? [], body.fields ?? []);
      return c.body(text, 200, { 'content-type': 'application/json; charset=UTF-8' });
    },
    facets: (c) => jsonBody(c, queries.facets(c.req.queries('facet') ?? [], c.req.queries('filter') ?? [])),
    facetsPosted: async (c) => {
      const body = await readJson<{ facets?: string[]; query?: unknown }>(c);
      return jsonBody(c, queries.facets(body.facets ?? [], queryToFilters(body.query)));
    },
    validate: async (c) => {
      const body = await readJson<{ entity?: unknown; location?: string }>(c);
      const problems = await validateEntity(body.entity);
      if (problems.length === 0) {
        const known = queries.refs();
        problems.push(
          ...checkReferences(body.entity as Entity, known, (raw, kind) =>
            closestOfKind(raw, known, kind),
          ).map((p) => ({
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
    },
  };
}

/** Deleting an orphan and refreshing an entity: for authorised callers, audited. */
function writeHandlers(catalog: CatalogService, auth: Auth, queries: EntityQueries): Record<string, Handler> {
  return {
    deleteByUid: async (c) => {
      const uid = c.req.param('uid') as string;
      const found = queries.findUid(uid);
      const foundRef = found ? entityRef(found) : undefined;
      await auth.authorize(c, permissions.catalogEntityDelete, { ref: foundRef });
      noteAudit(c, { target: foundRef ?? `uid:${uid}` });
      const entity = queries.byUid(uid);
      const ref = entityRef(entity);
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
    },
    // Refreshing one entity is for its owners (or admins); refreshing everything (no entityRef) for admins.
    refresh: async (c) => {
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
      if (!queries.refs().has(ref))
        throw new NotFoundError(`entityRef: no entity "${ref.slice(0, 200)}" in the catalogue`, {
          suggestions: closestRefs(ref, queries.refs(), 3),
        });
      noteAudit(c, { target: ref });
      await auth.authorize(c, permissions.catalogEntityRefresh, { ref });
      const result = await catalog.refreshEntity(ref);
      noteAudit(c, {
        details: { upserted: result?.upserted.length ?? 0, removed: result?.removed.length ?? 0 },
      });
      return c.body(null, 200);
    },
  };
}

/** Locations: the registered ones (Backstage's locations table). Only files inside the catalogue's roots. */
function locationHandlers(
  catalog: CatalogService,
  auth: Auth,
  queries: EntityQueries,
): Record<string, Handler> {
  return {
    list: async (c) => c.json((await catalog.store.locations()).map((data) => ({ data }))),
    byId: async (c) => {
      const loc = (await catalog.store.locations()).find((l) => l.id === c.req.param('id'));
      if (!loc) throw new NotFoundError(`No location with id "${c.req.param('id')}"`);
      return c.json(loc);
    },
    byEntity: async (c) => {
      const entity = queries.byName(...nameOf(c));
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
    },
    add: async (c) => {
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
    },
    remove: async (c) => {
      await auth.authorize(c, permissions.catalogLocationDelete);
      const id = c.req.param('id') as string;
      if (!/^[\w-]{1,128}$/.test(id)) throw new InputError(`Location id "${id.slice(0, 64)}" is not an id`);
      noteAudit(c, { target: `location:${id}` });
      const { location, result } = await catalog.removeLocation(id);
      noteAudit(c, { target: location.target, details: { removed: result.removed.length } });
      return c.body(null, 204);
    },
  };
}
