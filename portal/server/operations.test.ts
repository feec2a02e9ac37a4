import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { component, ORG, testDatabases, writeTree } from '@bank/catalog/testing';
import { CatalogService } from '@bank/plugin-catalog';
import { type RunningServer, startServer } from './server.ts';

const TOKEN = 'ops-token-1';
process.env.PORTAL_API_TOKENS = TOKEN;

const tree = () =>
  writeTree({ 'org/catalog-info.yaml': ORG, 'ledger/catalog-info.yaml': component('ledger', { tier: '1' }) });

async function serve(url: string, dir: string, opts: { ingest?: boolean } = {}) {
  const store = await CatalogStore.open(url);
  const catalog = new CatalogService(store, [dir]);
  if (opts.ingest !== false) await catalog.ingest();
  const server = await startServer({ catalog, port: 0, ui: false, devSignIn: true });
  return { catalog, server };
}

const json = async (res: Response) => (await res.json()) as { error: { name: string; message: string } };
const signIn = (base: string) =>
  fetch(`${base}/api/auth/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"user":"jane.doe"}',
  });
const refresh = (base: string) =>
  fetch(`${base}/api/catalog/refresh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: '{"entityRef":"component:default/ledger"}',
  });

describe('operations: probes, database errors as 503, security headers (issue 11)', () => {
  const servers: { catalog: CatalogService; server: RunningServer }[] = [];
  after(async () => {
    for (const s of servers) {
      // A server whose database is read-only or gone cannot store its last traffic checkpoint on close.
      await s.server.close().catch(() => {});
      await s.catalog.store.close().catch(() => {});
    }
  });

  it('answers /healthz (alive) and /readyz (database and graph) with 200 when all is well', async () => {
    const s = await serve(`file:${path.join(mkdtempSync(path.join(tmpdir(), 'ops-')), 'p.db')}`, tree());
    servers.push(s);
    assert.equal((await fetch(`${s.server.url}/healthz`)).status, 200);
    const ready = await fetch(`${s.server.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(((await ready.json()) as { ready: boolean }).ready, true);
  });

  it('puts CSP, nosniff, frame and referrer headers on pages, API answers, errors and guard refusals', async () => {
    const s = servers[0];
    const port = Number(new URL(s.server.url).port);
    const answers = [
      await fetch(`${s.server.url}/`),
      await fetch(`${s.server.url}/api/catalog/entities`),
      await fetch(`${s.server.url}/api/catalog/entities/by-name/component/default/nope`),
      await fetch(`${s.server.url}/healthz`),
    ];
    const rebound = await new Promise<Headers>((resolve, reject) => {
      const req = net.connect(port, '127.0.0.1', () =>
        req.write(`GET / HTTP/1.1\r\nHost: rebind.evil.example\r\nConnection: close\r\n\r\n`),
      );
      let raw = '';
      req.on('data', (d) => {
        raw += d.toString();
      });
      req.on('end', () => {
        const h = new Headers();
        for (const line of raw.split('\r\n\r\n')[0].split('\r\n').slice(1)) {
          const i = line.indexOf(':');
          h.append(line.slice(0, i), line.slice(i + 1).trim());
        }
        resolve(h);
      });
      req.on('error', reject);
    });
    for (const h of [...answers.map((a) => a.headers), rebound]) {
      assert.match(h.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      assert.equal(h.get('x-content-type-options'), 'nosniff');
      assert.equal(h.get('x-frame-options'), 'DENY');
      assert.equal(h.get('referrer-policy'), 'same-origin');
    }
    assert.match(answers[0].headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.match(answers[1].headers.get('content-security-policy') ?? '', /default-src 'none'/);
  });

  it('maps a read-only SQLite file to 503 naming the file (was 500 "cannot rollback - no transaction is active")', async () => {
    const dir = tree();
    const folder = mkdtempSync(path.join(tmpdir(), 'ops-ro-'));
    const file = path.join(folder, 'p.db');
    const seed = await CatalogStore.open(`file:${file}`);
    await new CatalogService(seed, [dir]).ingest();
    await seed.close();
    const files = [file, `${file}-wal`, `${file}-shm`].filter((f) => existsSync(f));
    for (const f of files) chmodSync(f, 0o444);
    // root ignores file modes: make the files immutable instead (needs CAP_LINUX_IMMUTABLE, which root has).
    const immutable = process.getuid?.() === 0;
    if (immutable) {
      const r = spawnSync('chattr', ['+i', ...files]);
      assert.equal(r.status, 0, `chattr +i: ${r.stderr}`);
    }
    try {
      const s = await serve(`file:${file}`, dir, { ingest: false }).catch((err: Error) => {
        throw new Error(`a read-only catalogue must still serve reads: ${err.message}`);
      });
      servers.push(s);
      assert.equal((await fetch(`${s.server.url}/api/catalog/entities`)).status, 200, 'reads still work');
      for (const res of [await signIn(s.server.url), await refresh(s.server.url)]) {
        const body = await json(res);
        assert.equal(res.status, 503, body.error.message);
        assert.equal(body.error.name, 'DatabaseUnavailableError');
        assert.match(
          body.error.message,
          new RegExp(`${file.replace(/[.]/g, '\\.')} is read-only.*Nothing was written`),
        );
        assert.doesNotMatch(body.error.message, /cannot rollback/);
      }
    } finally {
      if (immutable) spawnSync('chattr', ['-i', ...files]);
    }
  });

  it('maps a full disk to 503 saying the disk is full', async () => {
    const dir = tree();
    const s = await serve(`file:${path.join(mkdtempSync(path.join(tmpdir(), 'ops-full-')), 'p.db')}`, dir);
    servers.push(s);
    // The database may not grow by one more page: SQLite answers SQLITE_FULL as on a full disk.
    const [{ page_count }] = await s.catalog.store.driver.query<{ page_count: number }>('PRAGMA page_count');
    await s.catalog.store.driver.exec(`PRAGMA max_page_count = ${page_count}`);
    writeFileSync(
      path.join(dir, 'ledger/catalog-info.yaml'),
      component('ledger').replace('description: The ledger service', `description: "${'y'.repeat(200_000)}"`),
    );
    const res = await refresh(s.server.url);
    const body = await json(res);
    assert.equal(res.status, 503, body.error.message);
    assert.match(
      body.error.message,
      /The disk holding the catalogue database .*p\.db is full\. Nothing was written/,
    );
  });

  const pg = testDatabases()[1];
  it('maps PostgreSQL going down to 503 naming the database, never host, port or driver text; /readyz says why', {
    skip: pg.skip,
  }, async () => {
    const real = new URL(await pg.create());
    // A real TCP hop between the portal and PostgreSQL that we can cut: PostgreSQL "goes down".
    const sockets = new Set<net.Socket>();
    const proxy = net.createServer((client) => {
      const upstream = net.connect(Number(real.port || 5432), real.hostname);
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    const via = new URL(real);
    via.hostname = '127.0.0.1';
    via.port = String((proxy.address() as net.AddressInfo).port);
    const s = await serve(via.toString(), tree());
    servers.push(s);
    assert.equal((await fetch(`${s.server.url}/readyz`)).status, 200);

    await new Promise<void>((r) => {
      proxy.close(() => r());
      for (const x of sockets) x.destroy();
    });
    const dbName = real.pathname.slice(1);
    const ready = await fetch(`${s.server.url}/readyz`);
    assert.equal(ready.status, 503);
    const readyBody = (await ready.json()) as { ready: boolean; reason: string };
    assert.match(readyBody.reason, new RegExp(`the PostgreSQL database "${dbName}" is unreachable`));
    assert.equal((await fetch(`${s.server.url}/healthz`)).status, 200, 'alive: the process itself is fine');
    for (const res of [await signIn(s.server.url), await refresh(s.server.url)]) {
      const text = await res.text();
      assert.equal(res.status, 503, text);
      assert.match(text, new RegExp(`PostgreSQL database \\\\"${dbName}\\\\" is unreachable`));
      for (const secret of [
        via.port,
        real.port,
        '127.0.0.1',
        'ECONNREFUSED',
        via.username,
        'postgres://',
      ].filter(Boolean))
        assert.ok(!text.includes(secret), `the answer leaks "${secret}": ${text}`);
      assert.equal(res.headers.get('retry-after'), '5');
    }
  });
});
