import { mkdirSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { EntityFilterQuery } from '@backstage/catalog-client';
import type { Entity } from '@bank/catalog';
import { InputError } from '@bank/plugin-kit';
import yaml from 'yaml';

/**
 * Moving a catalogue between a Backstage (or another portal) and descriptor files. What a catalogue adds
 * when it stores an entity (uid, etag, relations, status, where it was read from, orphan marks) is left
 * out, so the files say only what their authors wrote; Location entities are left out too (their targets
 * are the other catalogue's files). One `catalog-info.yaml` per entity, at
 * `<out>/<namespace>/<kind>/<name>/`, so a tree walk (or `portal ingest <out>`) reads them all.
 */
const GENERATED_ANNOTATIONS = [
  'backstage.io/managed-by-location',
  'backstage.io/managed-by-origin-location',
  'backstage.io/orphan',
  'backstage.io/source-location',
];

/** An entity as its author would write it. */
export function descriptorOf(entity: Entity): Entity {
  const { uid, etag, generation, ...metadata } = entity.metadata as Entity['metadata'] & {
    generation?: number;
  };
  void uid;
  void etag;
  void generation;
  const annotations = Object.fromEntries(
    Object.entries(metadata.annotations ?? {}).filter(([k]) => !GENERATED_ANNOTATIONS.includes(k)),
  );
  const out: Entity = {
    apiVersion: entity.apiVersion,
    kind: entity.kind,
    metadata: { ...metadata, annotations },
    ...(entity.spec ? { spec: entity.spec } : {}),
  };
  if (Object.keys(annotations).length === 0) delete out.metadata.annotations;
  return out;
}

/** A path segment that stays a single folder name (Backstage's names are letters, digits, `-_.`). */
function segment(value: unknown, what: string, ref: string): string {
  const s = String(value ?? '');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/.test(s) || s.includes('..'))
    throw new InputError(`${ref}: ${what} "${s.slice(0, 80)}" cannot be a folder name; not written`);
  return s;
}

/** Write each entity to `<out>/<namespace>/<kind>/<name>/catalog-info.yaml`, staying inside `out` after symlinks. */
export function writeDescriptors(
  entities: Iterable<Entity>,
  outDir: string,
): { written: string[]; skipped: string[] } {
  mkdirSync(outDir, { recursive: true });
  const root = realpathSync(outDir);
  const written: string[] = [];
  const skipped: string[] = [];
  for (const entity of entities) {
    const ns = entity.metadata.namespace ?? 'default';
    const ref = `${entity.kind}:${ns}/${entity.metadata.name}`.toLowerCase();
    if (entity.kind.toLowerCase() === 'location') {
      skipped.push(ref);
      continue;
    }
    const dir = path.join(
      root,
      segment(ns, 'namespace', ref).toLowerCase(),
      segment(entity.kind, 'kind', ref).toLowerCase(),
      segment(entity.metadata.name, 'name', ref),
    );
    mkdirSync(dir, { recursive: true });
    const real = realpathSync(dir);
    if (!real.startsWith(root + path.sep))
      throw new InputError(`${ref}: ${dir} resolves to ${real}, outside ${root}; not written`);
    const file = path.join(real, 'catalog-info.yaml');
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, yaml.stringify(descriptorOf(entity), { lineWidth: 0 }));
    renameSync(tmp, file);
    written.push(file);
  }
  return { written, skipped };
}

/**
 * `--filter kind=component,spec.type=service` as Backstage's catalog API reads `filter=`: conditions within
 * one filter are ANDed, several filters ORed.
 */
export function parseFilters(filters: string[]): EntityFilterQuery | undefined {
  if (filters.length === 0) return undefined;
  return filters.map((f) => {
    const set: Record<string, string[]> = {};
    for (const part of f.split(',')) {
      const eq = part.indexOf('=');
      if (eq <= 0) throw new InputError(`--filter "${f}": write key=value[,key=value], e.g. kind=component`);
      const key = part.slice(0, eq).trim();
      set[key] = [...(set[key] ?? []), part.slice(eq + 1).trim()];
    }
    return set;
  });
}

/**
 * Every entity (or those the filters match) of a running Backstage catalogue, read through the official
 * `@backstage/catalog-client` a page at a time. `baseUrl` is the backend's root (…/api/catalog is added).
 */
export async function* entitiesFromBackstage(
  baseUrl: string,
  opts: { filter?: EntityFilterQuery; token?: string; pageSize?: number } = {},
): AsyncGenerator<Entity> {
  const u = new URL(baseUrl);
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new InputError(`${baseUrl}: not an http(s) URL`);
  const api = u.pathname.replace(/\/+$/, '').endsWith('/api/catalog')
    ? baseUrl.replace(/\/+$/, '')
    : `${baseUrl.replace(/\/+$/, '')}/api/catalog`;
  // Loaded here, not with the module: the plugin's index re-exports this file, and catalog-client brings the
  // whole of catalog-model and zod with it (about 0.3 s of every start that never imports from Backstage).
  const { CatalogClient } = await import('@backstage/catalog-client');
  const client = new CatalogClient({ discoveryApi: { getBaseUrl: async () => api } });
  const auth = opts.token ? { token: opts.token } : undefined;
  let page = await client.queryEntities({ filter: opts.filter, limit: opts.pageSize ?? 500 }, auth);
  for (;;) {
    yield* page.items;
    const cursor = page.pageInfo.nextCursor;
    if (!cursor || page.items.length === 0) return;
    page = await client.queryEntities({ cursor, limit: opts.pageSize ?? 500 }, auth);
  }
}

/** Copy entities of a running Backstage into descriptor files under `outDir`. */
export async function importFromBackstage(
  baseUrl: string,
  outDir: string,
  opts: { filter?: EntityFilterQuery; token?: string; pageSize?: number } = {},
): Promise<{ written: string[]; skipped: string[]; read: number }> {
  const entities: Entity[] = [];
  for await (const e of entitiesFromBackstage(baseUrl, opts)) entities.push(e);
  return { ...writeDescriptors(entities, outDir), read: entities.length };
}
