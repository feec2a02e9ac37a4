import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CatalogClient } from '@backstage/catalog-client';
import { CatalogStore } from '@bank/catalog';
import { component, ORG, writeTree } from '@bank/catalog/testing';
import { CatalogService } from '@bank/plugin-catalog';
import { startServer } from './server.ts';

const TOKEN = 'locations-token';
const token = { token: TOKEN };

/** A catalogue laid out as Backstage's examples are: entities come in through a locations file. */
const BACKSTAGE_FILES = {
  'backstage/all.yaml': [
    'apiVersion: backstage.io/v1alpha1',
    'kind: Location',
    'metadata: {name: example-catalog}',
    'spec:',
    '  targets:',
    '    - ./org.yaml',
    '    - ./components.yaml',
    '    - ./apis/artist-api.yaml',
    // also reachable from the tree: deleting this location must not take it away
    '    - ../services/ledger/catalog-info.yaml',
    '',
  ].join('\n'),
  'backstage/org.yaml': [
    'apiVersion: backstage.io/v1alpha1',
    'kind: Group',
    'metadata: {name: team-a}',
    'spec: {type: team, children: []}',
    '',
  ].join('\n'),
  'backstage/components.yaml': [
    component('artist-lookup', { owner: 'team-a' }),
    '---',
    component('playback-order', { owner: 'team-a' }),
  ].join('\n'),
  'backstage/apis/artist-api.yaml': [
    'apiVersion: backstage.io/v1alpha1',
    'kind: API',
    'metadata: {name: artist-api}',
    'spec: {type: openapi, lifecycle: production, owner: team-a, definition: "openapi: 3.0.0"}',
    '',
  ].join('\n'),
  'backstage/broken.yaml': [
    'apiVersion: backstage.io/v1alpha1',
    'kind: Component',
    'metadata: {name: no-spec}',
    '---',
    'apiVersion: backstage.io/v1alpha1',
    'kind: Component',
    'metadata: {name: Bad Name}',
    'spec: {type: service, lifecycle: production, owner: team-a}',
    '',
  ].join('\n'),
  'backstage/extra.yaml': component('extra-service', { owner: 'team-a' }),
};

const BACKSTAGE_REFS = [
  'api:default/artist-api',
  'component:default/artist-lookup',
  'component:default/playback-order',
  'group:default/team-a',
  'location:default/example-catalog',
];

async function serve(roots: string[]) {
  const store = await CatalogStore.open(
    `file:${path.join(mkdtempSync(path.join(tmpdir(), 'loc-')), 'p.db')}`,
  );
  const catalog = new CatalogService(store, roots);
  await catalog.view();
  const server = await startServer({ catalog, port: 0, ui: false });
  const client = new CatalogClient({ discoveryApi: { getBaseUrl: async () => `${server.url}/api/catalog` } });
  return { store, catalog, server, client };
}

/** The server's own message, which the client keeps as the cause of its ResponseError. */
async function rejectsWith(call: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(call, (err: Error) => {
    assert.match(String((err.cause as Error | undefined)?.message ?? err.message), re);
    return true;
  });
}

async function refs(client: CatalogClient): Promise<string[]> {
  const { items } = await client.getEntities({ fields: ['kind', 'metadata.name', 'metadata.namespace'] });
  return items
    .map((e) => `${e.kind}:${e.metadata.namespace ?? 'default'}/${e.metadata.name}`.toLowerCase())
    .sort();
}

describe('Backstage catalog-client: refresh and location calls touch only what they name', () => {
  let env: Awaited<ReturnType<typeof serve>>;
  const dir = writeTree({
    'services/org/catalog-info.yaml': ORG,
    'services/ledger/catalog-info.yaml': component('ledger'),
    'services/balance/catalog-info.yaml': component('balance', { dependsOn: ['component:ledger'] }),
    ...BACKSTAGE_FILES,
  });
  const all = path.join(dir, 'backstage', 'all.yaml');

  before(async () => {
    process.env.PORTAL_API_TOKENS = TOKEN;
    env = await serve([dir]);
    await env.catalog.ingest();
  });
  after(async () => {
    await env.server.close();
    await env.store.close();
  });

  it('addLocation with dryRun says what the file holds and writes nothing; a file of which nothing can be read is a 400 listing why', async () => {
    const before = await refs(env.client);
    assert.ok(!before.includes('component:default/artist-lookup'), 'the locations file is not a tree file');
    const dry = await env.client.addLocation({ type: 'file', target: all, dryRun: true }, token);
    assert.deepEqual(
      dry.entities.map((e) => `${e.kind}:default/${e.metadata.name}`.toLowerCase()).sort(),
      [...BACKSTAGE_REFS, 'component:default/ledger'].sort(),
    );
    assert.equal(dry.exists, false);
    assert.deepEqual(await refs(env.client), before, 'a dry run writes nothing');
    assert.deepEqual((await env.client.getLocations({}, token)).items, []);

    const bad = await fetch(`${env.server.url}/api/catalog/locations?dryRun=true`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'file', target: path.join(dir, 'backstage', 'broken.yaml') }),
    });
    assert.equal(bad.status, 400);
    const message = ((await bad.json()) as { error: { message: string } }).error.message;
    assert.match(message, /broken\.yaml:1:1 .*spec/);
    assert.match(message, /broken\.yaml:7:\d+ .*metadata\.name/);
  });

  it('addLocation reads the file it is given and what its Location lists, records it, and removes nothing', async () => {
    const before = await refs(env.client);
    const added = await env.client.addLocation({ type: 'file', target: all }, token);
    assert.equal(added.location.target, all);
    assert.match(added.location.entityRef, /^location:default\/generated-[0-9a-f]{40}$/);
    assert.ok(added.entities.some((e) => e.metadata.name === 'artist-lookup'));
    const after = await refs(env.client);
    assert.deepEqual(after, [...new Set([...before, ...BACKSTAGE_REFS])].sort(), 'nothing removed');

    // The owner facet counts what each group owns, from the ownedBy relations.
    const facets = await env.client.getEntityFacets({ facets: ['relations.ownedBy'] });
    assert.ok(
      facets.facets['relations.ownedBy'].some((f) => f.value === 'group:default/team-a' && f.count === 3),
      JSON.stringify(facets.facets),
    );
    const [registered] = (await env.client.getLocations({}, token)).items;
    assert.deepEqual(registered, added.location);
    assert.deepEqual(await env.client.getLocationById(added.location.id, token), added.location);
    // The location that brought an entity in is its origin; its own file is managed-by-location.
    assert.deepEqual(
      await env.client.getLocationByEntity('component:default/artist-lookup', token),
      added.location,
    );
    const artist = await env.client.getEntityByRef('component:default/artist-lookup');
    const annotations = artist?.metadata.annotations ?? {};
    assert.equal(annotations['backstage.io/managed-by-origin-location'], `file:${all}`);
    assert.equal(
      annotations['backstage.io/managed-by-location'],
      `file:${path.join(dir, 'backstage', 'components.yaml')}`,
    );
    // A second registration is a conflict, unless told to refresh.
    await rejectsWith(env.client.addLocation({ type: 'file', target: all }, token), /already registered/);
    const again = await fetch(`${env.server.url}/api/catalog/locations?onConflict=refresh`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'file', target: all }),
    });
    assert.equal(again.status, 201);
    assert.equal(((await again.json()) as { exists: boolean }).exists, true);
  });

  it("refreshEntity reads only that entity's file: its edit shows, edits elsewhere wait, nothing is lost", async () => {
    const before = await refs(env.client);
    const components = path.join(dir, 'backstage', 'components.yaml');
    const text = readFileSync(components, 'utf8');
    writeFileSync(components, text.replace('The artist-lookup service', 'Looks up artists'));
    const balance = path.join(dir, 'services', 'balance', 'catalog-info.yaml');
    writeFileSync(
      balance,
      component('balance', { dependsOn: ['component:ledger'] }).replace('The balance', 'Edited'),
    );

    await env.client.refreshEntity('component:default/artist-lookup', token);
    assert.deepEqual(await refs(env.client), before);
    const artist = await env.client.getEntityByRef('component:default/artist-lookup');
    assert.equal(artist?.metadata.description, 'Looks up artists');
    const other = await env.client.getEntityByRef('component:default/balance');
    assert.equal(other?.metadata.description, 'The balance service', 'another file is not read');

    // A tree entity refreshes from its own catalog-info.yaml just the same.
    await env.client.refreshEntity('component:default/balance', token);
    assert.equal(
      (await env.client.getEntityByRef('component:default/balance'))?.metadata.description,
      'Edited service',
    );
    assert.deepEqual(await refs(env.client), before);

    // The full ingest `portal serve` and its watcher run keeps what a client registered.
    await env.catalog.ingest();
    assert.deepEqual(await refs(env.client), before);
  });

  it('an entity its file no longer lists stays, marked orphan as Backstage marks it, and can then be deleted', async () => {
    const before = await refs(env.client);
    const text = readFileSync(all, 'utf8');
    writeFileSync(all, text.replace('    - ./apis/artist-api.yaml\n', ''));
    await env.client.refreshEntity('location:default/example-catalog', token);
    assert.deepEqual(await refs(env.client), before);
    const api = await env.client.getEntityByRef('api:default/artist-api');
    assert.equal(api?.metadata.annotations?.['backstage.io/orphan'], 'true');
    const orphans = await env.client.getEntities({
      filter: { 'metadata.annotations.backstage.io/orphan': 'true' },
    });
    assert.deepEqual(
      orphans.items.map((e) => e.metadata.name),
      ['artist-api'],
    );
    // Listed again, it is no longer an orphan.
    writeFileSync(all, text);
    await env.client.refreshEntity('location:default/example-catalog', token);
    const back = await env.client.getEntityByRef('api:default/artist-api');
    assert.equal(back?.metadata.annotations?.['backstage.io/orphan'], undefined);
    // A non-orphan cannot be deleted by uid (its file would bring it back); an orphan can.
    const ledger = await env.client.getEntityByRef('component:default/ledger');
    await rejectsWith(env.client.removeEntityByUid(ledger?.metadata.uid as string, token), /defined in/);
    writeFileSync(all, text.replace('    - ./apis/artist-api.yaml\n', ''));
    await env.client.refreshEntity('location:default/example-catalog', token);
    const orphan = await env.client.getEntityByRef('api:default/artist-api');
    await env.client.removeEntityByUid(orphan?.metadata.uid as string, token);
    assert.equal(await env.client.getEntityByRef('api:default/artist-api'), undefined);
    writeFileSync(all, text);
    await env.client.refreshEntity('location:default/example-catalog', token);
    assert.deepEqual(await refs(env.client), before);
  });

  it('removeLocationById removes exactly what that location contributed, not what the tree still reaches', async () => {
    const before = await refs(env.client);
    const [location] = (await env.client.getLocations({}, token)).items;
    await env.client.removeLocationById(location.id, token);
    assert.deepEqual(
      await refs(env.client),
      before.filter((r) => !BACKSTAGE_REFS.includes(r)),
    );
    assert.ok((await refs(env.client)).includes('component:default/ledger'), 'still in the tree');
    assert.deepEqual((await env.client.getLocations({}, token)).items, []);
    assert.equal(await env.client.getLocationById(location.id, token), undefined);
  });
});

describe('Backstage catalog-client against a catalogue whose root is a Backstage locations file', () => {
  let env: Awaited<ReturnType<typeof serve>>;
  const dir = writeTree({ ...BACKSTAGE_FILES, 'services/ledger/catalog-info.yaml': component('ledger') });
  // all.yaml also lists ../services/ledger: above the root's folder, so not read (and reported).
  const bank = writeTree({ 'org/catalog-info.yaml': ORG, 'card/catalog-info.yaml': component('card') });

  before(async () => {
    process.env.PORTAL_API_TOKENS = TOKEN;
    env = await serve([path.join(dir, 'backstage', 'all.yaml')]);
    await env.catalog.ingest();
  });
  after(async () => {
    await env.server.close();
    await env.store.close();
  });

  it('refreshEntity keeps every entity (it used to remove all of them), and pulls in nothing else', async () => {
    const before = await refs(env.client);
    assert.deepEqual(before, BACKSTAGE_REFS);
    for (const ref of before) await env.client.refreshEntity(ref, token);
    assert.deepEqual(await refs(env.client), before);
    assert.ok(!(await refs(env.client)).includes('component:default/card'), 'the bank tree is not read');
    assert.ok(bank);
  });

  it('adds a location beside the locations file, then removes it, and the root keeps everything it lists', async () => {
    const before = await refs(env.client);
    const added = await env.client.addLocation(
      { type: 'file', target: path.join(dir, 'backstage', 'extra.yaml') },
      token,
    );
    assert.deepEqual(
      added.entities.map((e) => e.metadata.name),
      ['extra-service'],
    );
    assert.deepEqual(await refs(env.client), [...before, 'component:default/extra-service'].sort());
    // Registering a file the root already lists, then removing it, leaves it in the catalogue.
    const listed = await env.client.addLocation(
      { type: 'file', target: path.join(dir, 'backstage', 'components.yaml') },
      token,
    );
    await env.client.removeLocationById(listed.location.id, token);
    await env.client.removeLocationById(added.location.id, token);
    assert.deepEqual(await refs(env.client), before);
    await rejectsWith(
      env.client.addLocation({ type: 'file', target: path.join(bank, 'card', 'catalog-info.yaml') }, token),
      /outside the catalogue's roots/,
    );
  });
});
