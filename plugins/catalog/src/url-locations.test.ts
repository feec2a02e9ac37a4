import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CatalogStore, mirrorPathOf, UrlReader } from '@bank/catalog';
import { writeTree } from '@bank/catalog/testing';
import { CatalogService } from './service.ts';

/** The files a Git host would serve, editable by the test; served by a real HTTP server on 127.0.0.1. */
const files: Record<string, string> = {
  '/repo/catalog-info.yaml': `apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: repo}
spec:
  targets: [./team/catalog-info.yaml]
`,
  '/repo/team/catalog-info.yaml': `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: payments}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: cards-api}
spec:
  type: openapi
  lifecycle: production
  owner: payments
  definition:
    $text: ./openapi.yaml
`,
  '/repo/team/openapi.yaml': 'openapi: 3.0.0\ninfo: {title: Cards, version: 1.0.0}\n',
  // Another repository, named by absolute URLs (filled in once the server's port is known).
  '/other/catalog-info.yaml': `apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: ledger}
spec: {type: service, lifecycle: production, owner: payments}
`,
};
let server: http.Server;
let base: string;
let up = true;

before(async () => {
  server = http.createServer((req, res) => {
    const body = up ? files[req.url ?? ''] : undefined;
    if (!up) return res.writeHead(503).end();
    if (body === undefined) return res.writeHead(404).end();
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

async function open() {
  const store = await CatalogStore.open(
    `file:${path.join(mkdtempSync(path.join(tmpdir(), 'url-loc-')), 'p.db')}`,
  );
  const catalog = new CatalogService(store, [writeTree({})], {
    reader: new UrlReader({ allow: ['127.0.0.1'], allowAddresses: ['127.0.0.1'] }),
    mirrorDir: mkdtempSync(path.join(tmpdir(), 'url-mirror-')),
  });
  return { store, catalog };
}

describe('URL locations', () => {
  it('addLocation({type: url}) reads the URL, its relative Location targets and $text placeholders through the reader; refreshEntity and the scheduled refresh read it again; a host that is down loses nothing', async () => {
    const { store, catalog } = await open();
    try {
      const url = `${base}/repo/catalog-info.yaml`;
      const added = await catalog.addLocation(url, { type: 'url' });
      assert.equal(added.location.type, 'url');
      assert.equal(added.location.target, url);
      assert.deepEqual(
        (await store.locations()).map((l) => `${l.type}:${l.target}`),
        [`url:${url}`],
      );
      let view = await catalog.view();
      const api = view.byRef.get('api:default/cards-api');
      assert.equal(
        (api?.spec as { definition?: string } | undefined)?.definition,
        files['/repo/team/openapi.yaml'],
      );
      assert.ok(view.byRef.get('group:default/payments'));

      // Edited on the host: refreshEntity reads the URL again.
      files['/repo/team/openapi.yaml'] = 'openapi: 3.0.0\ninfo: {title: Cards, version: 2.0.0}\n';
      await catalog.refreshEntity('api:default/cards-api');
      view = await catalog.view();
      assert.match(
        String(
          (view.byRef.get('api:default/cards-api')?.spec as { definition?: string } | undefined)?.definition,
        ),
        /2\.0\.0/,
      );

      // The schedule's refresh of every URL location picks up a new entity.
      files['/repo/team/catalog-info.yaml'] += `---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: cards}
spec: {type: service, lifecycle: production, owner: payments}
`;
      const r = await catalog.refreshUrlLocations();
      assert.deepEqual(r.failed, []);
      assert.ok((await catalog.view()).byRef.get('component:default/cards'));

      // The host is down: the refresh says so, and every entity stays.
      up = false;
      const down = await catalog.refreshUrlLocations();
      assert.equal(down.failed.length, 1);
      assert.match(down.failed[0]?.error ?? '', /HTTP 503/);
      await assert.rejects(catalog.refreshEntity('component:default/cards'), /HTTP 503/);
      await catalog.ingest();
      view = await catalog.view();
      for (const ref of ['api:default/cards-api', 'group:default/payments', 'component:default/cards'])
        assert.ok(view.byRef.get(ref), `${ref} kept while the host is down`);
      up = true;

      // The mirror is wiped (a reboot's temp folder): a whole ingest reads the URL again, nothing is lost.
      rmSync(catalog.mirrorDir, { recursive: true, force: true });
      await catalog.ingest();
      assert.ok((await catalog.view()).byRef.get('api:default/cards-api'), 'kept after the mirror was wiped');
      assert.ok(existsSync(mirrorPathOf(catalog.mirrorDir, url)), 'the URL was read again into the mirror');

      // Removing the location removes what it brought in.
      await catalog.removeLocation(added.location.id);
      view = await catalog.view();
      assert.equal(view.byRef.get('api:default/cards-api'), undefined);
    } finally {
      up = true;
      await store.close();
    }
  });

  it('the schedule (portal serve) reads URL locations again on its own', async () => {
    const { store, catalog } = await open();
    const stop = catalog.scheduleUrlRefresh(50);
    try {
      await catalog.addLocation(`${base}/repo/team/catalog-info.yaml`, { type: 'url' });
      files['/repo/team/catalog-info.yaml'] += `---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: scheduled}
spec: {type: service, lifecycle: production, owner: payments}
`;
      const deadline = Date.now() + 5000;
      while (!(await catalog.view()).byRef.get('component:default/scheduled') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      assert.ok((await catalog.view()).byRef.get('component:default/scheduled'), 'picked up without a call');
    } finally {
      stop();
      await new Promise((r) => setTimeout(r, 100));
      await store.close();
    }
  });

  it('entities from a URL location are managed by url:<the url> (Backstage), the origin is the registered URL, and removeLocation finds what it brought in by it', async () => {
    const { store, catalog } = await open();
    try {
      const url = `${base}/repo/catalog-info.yaml`;
      const added = await catalog.addLocation(url, { type: 'url' });
      const view = await catalog.view();
      const api = view.byRef.get('api:default/cards-api');
      assert.equal(
        api?.metadata.annotations?.['backstage.io/managed-by-location'],
        `url:${base}/repo/team/catalog-info.yaml`,
      );
      assert.equal(api?.metadata.annotations?.['backstage.io/managed-by-origin-location'], `url:${url}`);
      const root = [...view.byRef.values()].find((e) => e.kind === 'Location' && e.metadata.name === 'repo');
      assert.equal(root?.metadata.annotations?.['backstage.io/managed-by-location'], `url:${url}`);
      // Re-reading the file (refreshEntity) keeps the names: they come from the URL, not the mirror.
      await catalog.refreshEntity('api:default/cards-api');
      assert.equal(
        (await catalog.view()).byRef.get('api:default/cards-api')?.metadata.annotations?.[
          'backstage.io/managed-by-location'
        ],
        `url:${base}/repo/team/catalog-info.yaml`,
      );
      // removeLocation finds what it brought in by that origin.
      await catalog.removeLocation(added.location.id);
      assert.equal((await catalog.view()).byRef.get('api:default/cards-api'), undefined);
    } finally {
      await store.close();
    }
  });

  it('absolute URL Location targets: read through the reader from a URL descriptor and from a local one with type: url; refused with the reason otherwise; read again by the refresh', async () => {
    const other = `${base}/other/catalog-info.yaml`;
    files['/repo/abs/catalog-info.yaml'] = `apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: abs}
spec:
  targets: [${other}]
`;
    const { store, catalog } = await open();
    try {
      // From a URL location: the Location says no type and is read from a URL, so its targets are URLs.
      await catalog.addLocation(`${base}/repo/abs/catalog-info.yaml`, { type: 'url' });
      let ledger = (await catalog.view()).byRef.get('component:default/ledger');
      assert.ok(ledger, 'the absolute target was read');
      assert.equal(ledger.metadata.annotations?.['backstage.io/managed-by-location'], `url:${other}`);
      assert.equal(
        ledger.metadata.annotations?.['backstage.io/managed-by-origin-location'],
        `url:${base}/repo/abs/catalog-info.yaml`,
      );

      // Edited on the host: the scheduled refresh reads the absolute target again.
      files['/other/catalog-info.yaml'] = files['/other/catalog-info.yaml'].replace(
        'lifecycle: production',
        'lifecycle: deprecated',
      );
      const r = await catalog.refreshUrlLocations();
      assert.deepEqual(r.failed, []);
      ledger = (await catalog.view()).byRef.get('component:default/ledger');
      assert.equal((ledger?.spec as { lifecycle?: string } | undefined)?.lifecycle, 'deprecated');

      // The host goes down: the refresh says which URL failed, and the ledger stays.
      up = false;
      const down = await catalog.refreshUrlLocations();
      assert.ok(
        down.failed.some((f) => /HTTP 503/.test(f.error)),
        JSON.stringify(down.failed),
      );
      assert.ok((await catalog.view()).byRef.get('component:default/ledger'), 'kept while the host is down');
      up = true;
    } finally {
      up = true;
      await store.close();
      files['/other/catalog-info.yaml'] = files['/other/catalog-info.yaml'].replace(
        'lifecycle: deprecated',
        'lifecycle: production',
      );
    }

    // From a local file: only with spec.type: url; without it the target is refused at its position, saying why.
    const tree = writeTree({
      'typed/catalog-info.yaml': `apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: typed}
spec:
  type: url
  target: ${other}
`,
      'untyped/catalog-info.yaml': `apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: untyped}
spec:
  target: ${base}/repo/team/catalog-info.yaml
`,
      'blocked/catalog-info.yaml': `apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: blocked}
spec:
  type: url
  target: https://github.com/acme/repo/blob/main/catalog-info.yaml
`,
    });
    const store2 = await CatalogStore.open(
      `file:${path.join(mkdtempSync(path.join(tmpdir(), 'url-loc-')), 'p.db')}`,
    );
    try {
      const catalog2 = new CatalogService(store2, [tree], {
        reader: new UrlReader({ allow: ['127.0.0.1'], allowAddresses: ['127.0.0.1'] }),
        mirrorDir: mkdtempSync(path.join(tmpdir(), 'url-mirror-')),
      });
      const result = await catalog2.ingest();
      const view = await catalog2.view();
      const ledger = view.byRef.get('component:default/ledger');
      assert.ok(ledger, 'read from the local Location with type: url');
      assert.equal(ledger.metadata.annotations?.['backstage.io/managed-by-location'], `url:${other}`);
      assert.equal(view.byRef.get('group:default/payments'), undefined, 'the untyped URL target is not read');
      const untyped = result.errors.find((e) => e.file.endsWith(path.join('untyped', 'catalog-info.yaml')));
      assert.match(untyped?.message ?? '', /is a URL; .*spec\.type: url/);
      assert.equal(untyped?.line, 5);
      const blocked = result.errors.find((e) => e.file.endsWith(path.join('blocked', 'catalog-info.yaml')));
      assert.match(blocked?.message ?? '', /not in the reading allow-list/);
      assert.equal(blocked?.line, 6);
    } finally {
      await store2.close();
    }
  });

  it('a URL off the allow-list is refused with the reason, and nothing is registered', async () => {
    const { store, catalog } = await open();
    try {
      await assert.rejects(
        catalog.addLocation('https://github.com/acme/repo/blob/main/catalog-info.yaml', { type: 'url' }),
        /host github\.com is not in the reading allow-list/,
      );
      assert.deepEqual(await store.locations(), []);
    } finally {
      await store.close();
    }
  });
});
