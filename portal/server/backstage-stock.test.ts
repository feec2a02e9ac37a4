/**
 * Side by side with a running stock Backstage catalogue backend (@backstage/backend-defaults 0.19 and
 * @backstage/plugin-catalog-backend 4.0.5, the versions of ../shared/anchors/backstage, installed here as
 * devDependencies of plugins/backstage-backend), on the same files:
 *
 * - Backstage's decisions, not an oracle's: both read @backstage/create-app's example catalogue as npm
 *   publishes it (read from node_modules now, with create-app's own catalogue config and rules) and the
 *   fixtures of catalog/src/testing/backstage.ts; each must serve the same entities, the same specs and the
 *   same relations, dangling ones included. Placeholders are read from a URL location (a local HTTP server)
 *   by both and must resolve alike. One difference, on purpose: placeholders in a `file` location, which
 *   Backstage cannot resolve (it forms no URL from a bare path) and the portal resolves beside the file.
 * - `portal import --from-backstage` against it: every entity Backstage serves arrives with what its author
 *   wrote, nothing lost.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Entity } from '@backstage/catalog-model';
import { type RunningBackstage, startBackstage } from '@bank/backstage-plugin-portal-backend/testing';
import { CatalogStore, UrlReader } from '@bank/catalog';
import {
  BACKSTAGE_RULE_FIXTURES,
  type CreateAppExamples,
  createAppExamples,
  PLACEHOLDER_FIXTURES,
  writeTree,
} from '@bank/catalog/testing';
import { CatalogService, descriptorOf, importFromBackstage } from '@bank/plugin-catalog';

const ALL_KINDS = ['Component', 'API', 'Resource', 'System', 'Domain', 'Group', 'User', 'Location'];
const refOf = (e: Entity) =>
  `${e.kind}:${e.metadata.namespace ?? 'default'}/${e.metadata.name}`.toLowerCase();
const relationsOf = (e: Entity) =>
  (e.relations ?? []).map((r) => `${r.type} ${r.targetRef}`).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** What Backstage serves once it has processed everything: the same list for 4 s in a row (it polls every 1 s). */
async function settled(backstage: RunningBackstage, atLeast: number): Promise<Map<string, Entity>> {
  const deadline = Date.now() + 180_000;
  let last = '';
  let stableSince = Date.now();
  for (;;) {
    const res = await fetch(`${backstage.baseUrl}/api/catalog/entities`, {
      headers: { authorization: `Bearer ${backstage.token}` },
    });
    assert.equal(res.status, 200);
    const items = ((await res.json()) as Entity[]).filter((e) => e.kind !== 'Location');
    const key = JSON.stringify(items.map((e) => [refOf(e), e.metadata.etag]).sort());
    if (key !== last) {
      last = key;
      stableSince = Date.now();
    } else if (items.length >= atLeast && Date.now() - stableSince >= 4000) {
      return new Map(items.map((e) => [refOf(e), e]));
    }
    if (Date.now() > deadline)
      assert.fail(`Backstage did not settle in 180 s:\n${backstage.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The portal on the same files (and URL locations), read as `portal serve` reads them. */
async function portalServing(roots: string[], urls: string[] = []) {
  const store = await CatalogStore.open(
    `file:${path.join(mkdtempSync(path.join(tmpdir(), 'stock-')), 'p.db')}`,
  );
  const catalog = new CatalogService(store, roots, {
    reader: new UrlReader({ allow: ['127.0.0.1'], allowAddresses: ['127.0.0.1'] }),
    mirrorDir: mkdtempSync(path.join(tmpdir(), 'stock-mirror-')),
  });
  const result = await catalog.ingest();
  for (const url of urls) await catalog.addLocation(url, { type: 'url' });
  const view = await catalog.view();
  const served = new Map<string, Entity>();
  for (const ref of view.refs) {
    const e = view.byRef.get(ref) as unknown as Entity;
    if (e.kind !== 'Location') served.set(ref, e);
  }
  return { store, catalog, served, result };
}

/** The placeholder fixtures as a Git host would serve them, under other names (url-cards-…). */
const SERVED: Record<string, string> = Object.fromEntries(
  Object.entries(PLACEHOLDER_FIXTURES).map(([f, text]) => [
    `/repo/${f}`,
    text.replace(/cards-(rest|web)/g, 'url-cards-$1'),
  ]),
);
/** Served by the portal only: a file location's placeholders, which Backstage cannot resolve. */
const PORTAL_ONLY = ['api:default/cards-rest', 'component:default/cards-web'];

describe('side by side with a running stock Backstage catalogue backend', () => {
  const apps = createAppExamples();
  const fixtures = writeTree({ 'rules.yaml': BACKSTAGE_RULE_FIXTURES, ...PLACEHOLDER_FIXTURES });
  const fixtureFiles = [path.join(fixtures, 'rules.yaml'), path.join(fixtures, 'placeholders.yaml')];
  const runs = new Map<string, { backstage: RunningBackstage; theirs: Map<string, Entity> }>();
  const server = http.createServer((req, res) => {
    const body = SERVED[req.url ?? ''];
    if (body === undefined) res.writeHead(404).end();
    else res.end(body);
  });
  let host = '';
  const urlLocation = () => `http://${host}/repo/placeholders.yaml`;

  /** create-app's catalogue config for one template, plus the skeleton's descriptor and the fixtures. */
  const configOf = (app: CreateAppExamples, withFixtures: boolean) => ({
    catalogOnly: true,
    rules: app.rules,
    locations: [
      ...app.locations,
      { type: 'file' as const, target: app.files.skeleton, rules: [{ allow: ['Component'] }] },
      ...(withFixtures
        ? [
            ...fixtureFiles.map((target) => ({
              type: 'file' as const,
              target,
              rules: [{ allow: ALL_KINDS }],
            })),
            { type: 'url' as const, target: urlLocation(), rules: [{ allow: ALL_KINDS }] },
          ]
        : []),
    ],
    ...(withFixtures ? { readingAllow: [host] } : {}),
  });
  const rootsOf = (app: CreateAppExamples, withFixtures: boolean) => [
    app.files.entities,
    app.files.template,
    app.files.org,
    app.files.skeleton,
    ...(withFixtures ? fixtureFiles : []),
  ];

  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    // One backend per template: their examples share names. The fixtures ride with the first.
    for (const [i, app] of apps.entries()) {
      const backstage = await startBackstage({ ...configOf(app, i === 0), timeoutMs: 120_000 });
      try {
        runs.set(app.template, { backstage, theirs: await settled(backstage, 6) });
      } finally {
        if (i > 0) await backstage.stop();
      }
    }
  });
  after(async () => {
    await runs.get(apps[0]?.template)?.backstage.stop();
    server.close();
  });

  it('serves the same entities, specs and relations as Backstage from the same files (dangling ones kept alike)', async () => {
    assert.ok(apps.length >= 2, 'create-app ships example catalogues');
    for (const [i, app] of apps.entries()) {
      const { theirs } = runs.get(app.template) as { theirs: Map<string, Entity> };
      const ours = await portalServing(rootsOf(app, i === 0), i === 0 ? [urlLocation()] : []);
      try {
        const onlyPortal = i === 0 ? PORTAL_ONLY : [];
        assert.deepEqual(
          [...ours.served.keys()].filter((r) => !onlyPortal.includes(r)).sort(),
          [...theirs.keys()].sort(),
          app.template,
        );
        for (const ref of onlyPortal) assert.ok(ours.served.has(ref), ref);
        for (const [ref, e] of theirs) {
          const mine = ours.served.get(ref) as Entity;
          assert.deepEqual(descriptorOf(mine), descriptorOf(e), `${app.template} ${ref}: descriptor`);
          const toPortalOnly = (r: string) => onlyPortal.includes(r.slice(r.indexOf(' ') + 1));
          assert.deepEqual(
            relationsOf(mine).filter((r) => !toPortalOnly(r)),
            relationsOf(e),
            `${app.template} ${ref}: relations`,
          );
        }
        // Nothing the portal refused is an error where Backstage accepted it.
        for (const problem of ours.result.errors.filter((x) => x.severity !== 'warning'))
          assert.ok(!theirs.has(problem.entityRef ?? ''), `${problem.entityRef}: ${problem.message}`);
      } finally {
        await ours.store.close();
      }
    }
    const first = runs.get(apps[0].template)?.theirs as Map<string, Entity>;
    // The cases that matter, as Backstage decided them.
    for (const ref of [
      'component:default/my_service.v2',
      'component:default/owned-by-a-person',
      'domain:default/payments',
      'system:default/cards',
      'component:default/card-api',
      'api:default/card-rest',
      'template:default/example-nodejs-template',
      'api:default/url-cards-rest',
      'component:default/url-cards-web',
    ])
      assert.ok(first.has(ref), `Backstage serves ${ref}`);
    for (const ref of ['component:default/no-lifecycle', 'component:default/extra-root', ...PORTAL_ONLY])
      assert.ok(!first.has(ref), `Backstage refuses ${ref}`);
    assert.ok(
      relationsOf(first.get('component:default/card-api') as Entity).includes(
        'ownedBy group:default/missing-team',
      ),
      'a missing owner is a relation Backstage serves',
    );
    // Placeholders read through a URL location: resolved by Backstage (and, above, alike by the portal).
    assert.equal(
      (first.get('api:default/url-cards-rest')?.spec as { definition?: unknown } | undefined)?.definition,
      PLACEHOLDER_FIXTURES['cards.openapi.yaml'],
    );
    assert.deepEqual(first.get('component:default/url-cards-web')?.metadata.labels, {
      team: 'cards',
      tier: '2',
    });
  });

  it('portal import --from-backstage copies every entity it serves, as written, through the official client', async () => {
    const app = apps[0];
    const { backstage, theirs } = runs.get(app.template) as {
      backstage: RunningBackstage;
      theirs: Map<string, Entity>;
    };
    const out = mkdtempSync(path.join(tmpdir(), 'from-backstage-'));
    const r = await importFromBackstage(backstage.baseUrl, out, { token: backstage.token, pageSize: 3 });
    assert.equal(r.written.length, theirs.size);
    const copy = await portalServing([out]);
    try {
      assert.deepEqual([...copy.served.keys()].sort(), [...theirs.keys()].sort());
      for (const [ref, e] of theirs)
        assert.deepEqual(descriptorOf(copy.served.get(ref) as Entity), descriptorOf(e), ref);
      assert.deepEqual(
        copy.result.errors.filter((x) => x.severity !== 'warning'),
        [],
        'only warnings (the dangling references Backstage keeps too)',
      );
    } finally {
      await copy.store.close();
    }
  });
});
