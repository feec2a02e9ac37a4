import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { component, ORG, writeTree } from '@bank/catalog/testing';
import { CatalogService } from '@bank/plugin-catalog';
import { parseBaseUrl } from './guard.ts';
import { type RunningServer, startServer } from './server.ts';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A raw HTTP request to 127.0.0.1:port: fetch cannot send a Host of our choosing, an attacker can. */
export function raw(
  port: number,
  opts: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: opts.method ?? 'GET',
        path: opts.path,
        headers: opts.headers,
        setHost: opts.headers?.host !== undefined,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const message = (a: Answer) => (JSON.parse(a.body) as { error: { message: string } }).error.message;

describe('host and origin guard over real HTTP (issue 11: DNS rebinding, cross-site writes)', () => {
  let server: RunningServer;
  let catalog: CatalogService;
  let port: number;
  const dir = writeTree({
    'org/catalog-info.yaml': ORG,
    'ledger/catalog-info.yaml': component('ledger', { tier: '1' }),
  });

  before(async () => {
    const store = await CatalogStore.open(
      `file:${path.join(mkdtempSync(path.join(tmpdir(), 'guard-')), 'p.db')}`,
    );
    catalog = new CatalogService(store, [dir]);
    await catalog.ingest();
    server = await startServer({ catalog, port: 0, ui: false, baseUrl: 'https://portal.bank.example' });
    port = Number(new URL(server.url).port);
  });
  after(async () => {
    await server.close();
    await catalog.store.close();
  });

  it('refuses a DNS-rebinding request (Host: rebind.evil.example) with 421 before routing', async () => {
    // As the reproduction's page sent them: sign in, then scaffold, as text/plain from the rebound origin.
    const writes: Record<string, string> = {
      '/api/auth/sign-in': '{"user":"jane.doe"}',
      '/api/scaffolder/v2/tasks':
        '{"templateRef":"template:default/event-consumer","values":{"name":"rebound","owner":"ledger"}}',
    };
    for (const p of [
      '/api/catalog/entities',
      '/api/auth/sign-in',
      '/api/scaffolder/v2/tasks',
      '/',
      '/entity/component/default/ledger',
    ]) {
      for (const type of ['application/json', 'text/plain']) {
        const a = await raw(port, {
          method: writes[p] ? 'POST' : 'GET',
          path: p,
          headers: {
            host: `rebind.evil.example:${port}`,
            origin: `http://rebind.evil.example:${port}`,
            'content-type': type,
          },
          body: writes[p],
        });
        assert.equal(a.status, 421, `${p} ${type}`);
        assert.match(a.headers['content-type'] ?? '', /application\/json/);
        assert.match(message(a), /Host "rebind\.evil\.example:\d+" is not one of its names.*PORTAL_BASE_URL/);
        assert.equal(a.headers['set-cookie'], undefined, 'no session');
      }
    }
    // Nothing was signed in or scaffolded: the audit log has no sign-in and no task.
    const log = await catalog.store.auditLog(50);
    assert.deepEqual(
      log.filter((e) => /sign-in|scaffolder/.test(`${e.action} ${e.target}`)),
      [],
    );
  });

  it('refuses a loopback name on another port and a missing Host', async () => {
    assert.equal(
      (await raw(port, { path: '/api/catalog/entities', headers: { host: '127.0.0.1:1' } })).status,
      421,
    );
    // Node itself refuses an HTTP/1.1 request without Host (400); either way nothing is served.
    const none = await raw(port, { path: '/api/catalog/entities', headers: {} });
    assert.ok([400, 421].includes(none.status), String(none.status));
  });

  it('serves the base URL host and every loopback name with our port', async () => {
    for (const host of ['portal.bank.example', `127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
      const a = await raw(port, { path: '/api/catalog/entities?filter=kind=component', headers: { host } });
      assert.equal(a.status, 200, host);
    }
  });

  it('answers the probes whatever the Host (the kubelet sends the pod address)', async () => {
    const a = await raw(port, { path: '/healthz', headers: { host: '10.1.2.3:7007' } });
    assert.equal(a.status, 200);
  });

  it('refuses a text/plain cross-site POST (no CORS preflight) to sign-in with 415', async () => {
    const a = await raw(port, {
      method: 'POST',
      path: '/api/auth/sign-in',
      headers: { host: `127.0.0.1:${port}`, 'content-type': 'text/plain' },
      body: '{"user":"jane.doe"}',
    });
    assert.equal(a.status, 415);
    assert.match(message(a), /application\/json.*got "text\/plain"/);
    assert.equal(a.headers['set-cookie'], undefined);
  });

  it('refuses a cookie write from another origin (403), and Origin: null with 403 (was 500)', async () => {
    for (const origin of ['https://rebind.evil.example', 'null', `http://127.0.0.1:${port + 1}`]) {
      const a = await raw(port, {
        method: 'POST',
        path: '/api/catalog/refresh',
        headers: {
          host: `127.0.0.1:${port}`,
          origin,
          'content-type': 'application/json',
          cookie: 'portal_session=x.y',
        },
        body: '{"entityRef":"component:default/ledger"}',
      });
      assert.equal(a.status, 403, origin);
      assert.match(message(a), origin === 'null' ? /Origin: null/ : /refused/);
    }
  });

  it('lets our own pages write: JSON with Origin = the base URL or loopback reaches the route', async () => {
    for (const [host, origin] of [
      ['portal.bank.example', 'https://portal.bank.example'],
      [`localhost:${port}`, `http://localhost:${port}`],
    ]) {
      const a = await raw(port, {
        method: 'POST',
        path: '/api/catalog/refresh',
        headers: { host, origin, 'content-type': 'application/json' },
        body: '{}',
      });
      // Past the guard: the route itself answers (no credentials → 401 from the route, not 403/415).
      assert.equal(a.status, 401, host);
    }
  });

  it('does not apply the Origin and JSON rules to bearer-token writes (browsers never add a bearer token)', async () => {
    const a = await raw(port, {
      method: 'POST',
      path: '/api/catalog/refresh',
      headers: {
        host: `127.0.0.1:${port}`,
        origin: 'null',
        authorization: 'Bearer nope',
        'content-type': 'text/plain',
      },
      body: '{}',
    });
    assert.equal(a.status, 401);
  });

  it('names a bad PORTAL_BASE_URL at start', () => {
    assert.throws(() => parseBaseUrl('portal.bank.example'), /not a URL/);
    assert.throws(() => parseBaseUrl('ftp://portal.bank.example'), /http/);
    assert.throws(() => parseBaseUrl('https://portal.bank.example/portal'), /origin only/);
    assert.equal(parseBaseUrl('https://Portal.Bank.Example/')?.host, 'portal.bank.example');
  });
});
