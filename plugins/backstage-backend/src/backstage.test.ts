/**
 * The plugin inside a real Backstage backend (@backstage/backend-defaults 0.19 with the catalogue backend
 * 4.0, the anchor's release line), loaded as a Backstage app loads it (the built dist/), fed the bank's
 * estate (services/: the same descriptor files the portal ingests), called over HTTP with a Backstage
 * access token. Its answers must equal the portal's own /api/graph answers for the same files.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Entity } from '@backstage/catalog-model';
import { readCatalogTree } from '@bank/catalog';
import { buildGraphIndex } from '@bank/graph';
import { createGraphRouter } from '@bank/plugin-graph';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
// @ts-expect-error: a plain .mjs build script without types
import { build } from '../scripts/build.mjs';
import { type RunningBackstage, startBackstage } from './testing/backstage.ts';

const SERVICES = join(import.meta.dirname, '..', '..', '..', 'services');
const refOf = (e: { kind: string; metadata: { namespace?: string; name: string } }) =>
  `${e.kind.toLowerCase()}:${e.metadata.namespace ?? 'default'}/${e.metadata.name}`;

describe('portal-graph inside a real Backstage backend', () => {
  let backstage: RunningBackstage | undefined;
  let portal: ReturnType<typeof serve> | undefined;
  let portalBase = '';
  let entities: Entity[] = [];

  before(async () => {
    await build();
    const tree = await readCatalogTree(SERVICES);
    assert.deepEqual(tree.errors, []);
    entities = tree.entities;

    // The portal's answers: its graph router over its own ingest of services/, over real HTTP.
    const index = buildGraphIndex(entities);
    const app = new Hono();
    app.route('/api/graph', createGraphRouter({ getIndex: () => index }));
    await new Promise<void>((resolve) => {
      portal = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) => {
        portalBase = `http://127.0.0.1:${info.port}/api/graph`;
        resolve();
      });
    });

    // Backstage reads the very files the portal read (each entity names its descriptor file).
    const files = new Set<string>();
    for (const e of entities) {
      const where = e.metadata.annotations?.['backstage.io/managed-by-location'];
      if (where?.startsWith('file:')) files.add(where.slice('file:'.length));
    }
    backstage = await startBackstage({ descriptors: [...files].sort() });

    // Settled: every entity the portal holds is listed by Backstage's catalogue. An entity is listed only
    // once stitched, and its forward relations (the only ones the graph reads) come from its own processing.
    const want = entities.map(refOf);
    const deadline = Date.now() + 300_000;
    let missing: string[] = want;
    while (missing.length > 0) {
      const res: Response = await fetch(
        `${backstage.baseUrl}/api/catalog/entities?fields=kind,metadata.name,metadata.namespace`,
        {
          headers: { authorization: `Bearer ${backstage.token}` },
        },
      );
      assert.equal(res.status, 200);
      const listed = new Set(((await res.json()) as Entity[]).map(refOf));
      missing = want.filter((r) => !listed.has(r));
      if (missing.length === 0) break;
      if (Date.now() > deadline) {
        assert.fail(
          `Backstage listed ${want.length - missing.length} of ${want.length} entities after 300 s; missing e.g. ${missing.slice(0, 5).join(', ')}\n${backstage.output().slice(-3000)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  });

  after(async () => {
    await backstage?.stop();
    await new Promise<void>((resolve) => (portal ? portal.close(() => resolve()) : resolve()));
  });

  const fromBackstage = async (query: string, token: string | null | undefined = backstage?.token) => {
    const res = await fetch(`${backstage?.baseUrl}/api/portal-graph/${query}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return { status: res.status, body: await res.json() };
  };
  const fromPortal = async (query: string) => {
    const res = await fetch(`${portalBase}/${query}`);
    assert.equal(res.status, 200, `portal ${query}`);
    return res.json();
  };

  it('refuses a call without a Backstage token, or with a token Backstage does not know', async () => {
    const none = await fromBackstage('paths?from=card-api&to=feed', null);
    assert.equal(none.status, 401);
    assert.equal(none.body.error.name, 'AuthenticationError');
    const wrong = await fromBackstage('paths?from=card-api&to=feed', 'not-a-token-backstage-issued');
    assert.equal(wrong.status, 401);
  });

  it('answers the call paths card-api → feed exactly as the portal does', async () => {
    const query = 'paths?from=card-api&to=feed&k=20&maxHops=10';
    const { status, body } = await fromBackstage(query);
    assert.equal(status, 200);
    assert.equal(body.paths.length, 20);
    for (const p of body.paths) {
      assert.equal(p.hops[0].ref, 'component:default/card-api');
      assert.equal(p.hops.at(-1).ref, 'component:default/feed');
    }
    assert.equal(body.paths[0].hops[0].owner, 'group:default/card-processing');
    assert.deepEqual(body, await fromPortal(query));
  });

  it('answers the blast radius of ledger and of a squad exactly as the portal does', async () => {
    for (const query of [
      'impact?ref=ledger',
      'impact?ref=card-api&depth=2',
      'impact?ref=group:default/card-processing',
    ]) {
      const { status, body } = await fromBackstage(query);
      assert.equal(status, 200, query);
      assert.deepEqual(body, await fromPortal(query), query);
    }
    const ledger = await fromBackstage('impact?ref=ledger');
    assert.ok(ledger.body.total > 100, `ledger has ${ledger.body.total} dependents`);
  });

  it('answers neighbourhood, cycles and ownership as the portal does', async () => {
    for (const query of ['neighbourhood?ref=card-api&depth=2', 'cycles', 'ownership']) {
      const { status, body } = await fromBackstage(query);
      assert.equal(status, 200, query);
      assert.deepEqual(body, await fromPortal(query), query);
    }
  });

  it('says what is wrong with a query, in Backstage error envelopes', async () => {
    const unknown = await fromBackstage('paths?from=card-apu&to=feed');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.name, 'NotFoundError');
    assert.match(unknown.body.error.message, /unknown ref 'card-apu' \(from\); closest: card-api/);
    const k = await fromBackstage('paths?from=card-api&to=feed&k=99');
    assert.equal(k.status, 400);
    assert.match(k.body.error.message, /k must be an integer from 1 to 50/);
    const twice = await fromBackstage('impact?ref=ledger&ref=feed');
    assert.equal(twice.status, 400);
    assert.match(twice.body.error.message, /ref must be given once/);
  });

  it('says why drift needs the portal: the catalogue holds no observed calls', async () => {
    const { status, body } = await fromBackstage('drift');
    assert.equal(status, 501);
    assert.match(body.error.message, /traffic store/);
  });
});
