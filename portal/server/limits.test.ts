import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CatalogStore } from '@bank/catalog';
import { component, ORG, writeTree } from '@bank/catalog/testing';
import { CatalogService } from '@bank/plugin-catalog';
import { REFUSAL_PAUSE_MS } from '@bank/plugin-kit';
import { createRequestGuard } from './guard.ts';
import { lingeringRequests, type RunningServer, startServer } from './server.ts';

const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'portal.mjs');

/**
 * Streams `totalBytes` of a never-ending JSON string as a chunked body (no Content-Length), the way the
 * attacker in issue 11 did, reusing one 64 KiB chunk so the sender itself allocates nothing. Resolves with
 * the status as soon as the server answers (or 0 if it cut the connection first) and how much was sent.
 */
function streamChunked(port: number, pathname: string, totalBytes: number) {
  return new Promise<{ status: number; sent: number; body: string }>((resolve) => {
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    let answered = false;
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: pathname,
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
    });
    req.on('response', (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, sent, body });
      });
    });
    req.on('error', () => {
      if (!answered) resolve({ status: 0, sent, body: '' });
    });
    req.write('{"user":"');
    const pump = () => {
      while (!answered && sent < totalBytes) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered) req.end('"}');
    };
    pump();
  });
}

describe('bounded work: one streaming body limit (issue 11, memory exhaustion without credentials)', () => {
  let server: RunningServer;
  let catalog: CatalogService;
  const dir = writeTree({
    'org/catalog-info.yaml': ORG,
    'ledger/catalog-info.yaml': component('ledger', { tier: '1' }),
    'big/catalog-info.yaml': component('big').replace(
      'description: The big service',
      `description: "${'x'.repeat(300_000)}"`,
    ),
  });

  before(async () => {
    const store = await CatalogStore.open(
      `file:${path.join(mkdtempSync(path.join(tmpdir(), 'lim-')), 'p.db')}`,
    );
    catalog = new CatalogService(store, [dir]);
    await catalog.ingest();
    server = await startServer({ catalog, port: 0, ui: false, devSignIn: true });
  });
  after(async () => {
    await server.close();
    await catalog.store.close();
  });

  it('refuses a declared Content-Length over the limit before reading a byte', async () => {
    const res = await fetch(`${server.url}/api/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'x'.repeat(10_000) }),
    });
    assert.equal(res.status, 413);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /limit is 4096/);
  });

  it('caps refs per by-refs request: 10,000 refs is a 413 naming the limit of 1000 (was a 16.7 MB answer), read no further than 256 KiB', async () => {
    const refs = Array.from({ length: 10_000 }, (_, i) => `component:default/svc-${i}`);
    const res = await fetch(`${server.url}/api/catalog/entities/by-refs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ entityRefs: refs }),
    });
    assert.equal(res.status, 413);
    // 330 KB of refs: refused while the body is read (256 KiB is room for 1,000 of the longest refs).
    const err = ((await res.json()) as { error: { message: string; limit: number } }).error;
    assert.match(err.message, /larger than 262144 bytes: at most 1000 refs per request; split the list/);
    assert.equal(err.limit, 1000);
    // 1,001 short refs fit in the body and are refused by their count.
    const counted = await fetch(`${server.url}/api/catalog/entities/by-refs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ entityRefs: refs.slice(0, 1001) }),
    });
    assert.equal(counted.status, 413);
    assert.match(
      ((await counted.json()) as { error: { message: string } }).error.message,
      /1001 refs; at most 1000/,
    );
    // 1000 is served, in order, with nulls.
    const ok = await fetch(`${server.url}/api/catalog/entities/by-refs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ entityRefs: ['component:default/ledger', ...refs.slice(0, 999)] }),
    });
    assert.equal(ok.status, 200);
    const items = ((await ok.json()) as { items: ({ metadata: { name: string } } | null)[] }).items;
    assert.equal(items.length, 1000);
    assert.equal(items[0]?.metadata.name, 'ledger');
    assert.equal(items[1], null);
  });

  it('caps the by-refs answer: a 300 KB entity asked for 70 times is a quick 413 (was a 500 after 4 s)', async () => {
    assert.equal(catalog.loaded.byRef.get('component:default/big')?.metadata.description?.length, 300_000);
    const res = await fetch(`${server.url}/api/catalog/entities/by-refs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ entityRefs: Array(70).fill('component:default/big') }),
    });
    assert.equal(res.status, 413);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /over 16 MB.*fields/);
    const fewer = await fetch(`${server.url}/api/catalog/entities/by-refs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        entityRefs: Array(70).fill('component:default/big'),
        fields: ['metadata.name'],
      }),
    });
    assert.equal(fewer.status, 200);
  });

  it('a flood of oversized bodies is answered whole, one refusal per connection per pause (was ~125 a second per connection, most of them resets)', async () => {
    const { port } = new URL(server.url);
    const answers: Record<string, number> = {};
    let stop = false;
    // As bench/hardening/load.ts's attacker: each connection streams a body until answered, then again.
    const flood = async (pathname: string) => {
      while (!stop) {
        const { status } = await streamChunked(Number(port), pathname, 64 << 20);
        answers[status] = (answers[status] ?? 0) + 1;
      }
    };
    const connections = [
      '/api/catalog/entities/by-refs',
      '/api/catalog/entities/by-refs',
      '/api/auth/sign-in',
    ];
    const started = performance.now();
    const running = connections.map(flood);
    await new Promise((r) => setTimeout(r, 1500));
    stop = true;
    await Promise.all(running);
    const seconds = (performance.now() - started) / 1000;
    const total = Object.values(answers).reduce((a, b) => a + b, 0);
    // Every body got its answer (413 too large, 429 sign-in limit), none a cut connection (status 0).
    assert.deepEqual(
      Object.keys(answers).filter((s) => s !== '413' && s !== '429'),
      [],
      JSON.stringify(answers),
    );
    // At most one refusal per connection per REFUSAL_PAUSE_MS (plus the one under way when it stopped).
    const most = connections.length * (Math.ceil((seconds * 1000) / REFUSAL_PAUSE_MS) + 1);
    assert.ok(total <= most, `${total} refusals in ${seconds.toFixed(2)} s; at most ${most}`);
  });

  it('a refused body holds nothing once its client hangs up (the 1 s linger kept 130 MB alive under a flood)', async () => {
    const { port } = new URL(server.url);
    const refused = (pathname: string) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request({
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: pathname,
          agent: false,
          headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        });
        req.on('response', (res) => {
          res.resume();
          req.destroy();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.write(`{"entityRefs":["${'x'.repeat(1100 * 1024)}`);
      });
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        refused(i % 2 ? '/api/auth/sign-in' : '/api/catalog/entities/by-refs'),
      ),
    );
    // Too large (413), or past the sign-in rate limit (429): refused either way, the body left unread.
    assert.ok(
      answers.every((status) => status === 413 || status === 429),
      answers.join(' '),
    );
    // Every client has gone: nothing waits for the second-long linger timer.
    for (let i = 0; i < 50 && lingeringRequests() > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(lingeringRequests(), 0);
  });

  it('caps filters per query with a 400 naming the limit', async () => {
    const many = Array.from({ length: 51 }, (_, i) => `filter=metadata.name=s${i}`).join('&');
    const res = await fetch(`${server.url}/api/catalog/entities?${many}`);
    assert.equal(res.status, 400);
    assert.match(
      ((await res.json()) as { error: { message: string } }).error.message,
      /at most 50 per query/,
    );
    const wide = Array.from({ length: 501 }, (_, i) => `metadata.name=s${i}`).join(',');
    const res2 = await fetch(`${server.url}/api/catalog/entities/by-query?filter=${wide}`);
    assert.equal(res2.status, 400);
    assert.match(
      ((await res2.json()) as { error: { message: string } }).error.message,
      /at most 500 per filter/,
    );
  });
});

describe('per-caller rate limits and event-stream caps (issue 11: bounded work)', () => {
  let server: RunningServer;
  let catalog: CatalogService;
  const dir = writeTree({ 'org/catalog-info.yaml': ORG });
  before(async () => {
    const store = await CatalogStore.open(
      `file:${path.join(mkdtempSync(path.join(tmpdir(), 'rl-')), 'p.db')}`,
    );
    catalog = new CatalogService(store, [dir]);
    await catalog.ingest();
    server = await startServer({
      catalog,
      port: 0,
      ui: false,
      devSignIn: true,
      limits: {
        signInPerMinute: 3,
        writesPerSecond: 1,
        writeBurst: 5,
        streamsPerCaller: 2,
        // One batch per 100 s: the eleventh is refused however slowly a loaded machine sends the ten.
        traceBatchesPerSecond: 0.01,
        traceBatchBurst: 10,
      },
    });
  });
  after(async () => {
    await server.close();
    await catalog.store.close();
  });

  const signIn = () =>
    fetch(`${server.url}/api/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"user":"jane.doe"}',
    });

  it('refuses a fourth sign-in within the minute from one address with 429 and Retry-After', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await signIn()).status, 200);
    const res = await signIn();
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get('retry-after')) >= 1);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /at most 3 a minute/);
  });

  it('limits writes per caller: one token over its burst gets 429, another caller is unaffected', async () => {
    const write = (token: string) =>
      fetch(`${server.url}/api/catalog/validate-entity`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: '{"entity":{}}',
      });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await write('noisy')).status);
    assert.ok(
      statuses.slice(0, 5).every((s) => s !== 429),
      statuses.join(),
    );
    assert.equal(statuses[6], 429);
    assert.notEqual((await write('quiet')).status, 429);
  });

  it('counts OTLP trace batches apart from other writes: a collector over the write limit still sends spans, up to its own limit', async () => {
    const post = (p: string, token: string) =>
      fetch(`${server.url}${p}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${token}` },
        body: new Uint8Array(0),
      });
    // The write bucket of this token is emptied...
    let refused = false;
    for (let i = 0; i < 50 && !refused; i++)
      refused = (await post('/api/catalog/validate-entity', 'collector')).status === 429;
    assert.ok(refused, 'the writes reach their limit');
    // ...its trace batches have their own: ten pass the guard, the eleventh is refused with its own reason.
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await post('/v1/traces', 'collector')).status);
    assert.ok(
      statuses.every((s) => s !== 429),
      statuses.join(),
    );
    const over = await post('/v1/traces', 'collector');
    assert.equal(over.status, 429);
    assert.ok(Number(over.headers.get('retry-after')) >= 1);
    assert.match(
      ((await over.json()) as { error: { message: string } }).error.message,
      /Too many trace batches from this caller \(at most 0\.01 a second, bursts of 10\)/,
    );
  });

  it('caps event streams open at once per caller: the third open stream is a 429, a closed one frees its slot', async () => {
    // The guard in front of a server whose event streams stay open until the caller leaves (as the
    // scaffolder's task events do while a task runs).
    const guard = createRequestGuard({ port: () => port, limits: { streamsPerCaller: 2 } });
    const streams = http.createServer((req, res) => {
      if (guard(req, res)) return;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': open\n\n');
    });
    await new Promise<void>((r) => streams.listen(0, '127.0.0.1', () => r()));
    const port = (streams.address() as AddressInfo).port;
    const open = () =>
      new Promise<{ status: number; retryAfter?: string; close: () => void }>((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            path: '/api/scaffolder/tasks/x/events',
            headers: { accept: 'text/event-stream' },
            agent: false,
          },
          (res) =>
            resolve({
              status: res.statusCode ?? 0,
              retryAfter: res.headers['retry-after'],
              close: () => req.destroy(),
            }),
        );
        req.on('error', reject);
        req.end();
      });
    const a = await open();
    const b = await open();
    const c = await open();
    assert.deepEqual([a.status, b.status, c.status], [200, 200, 429]);
    assert.ok(Number(c.retryAfter) >= 1);
    a.close();
    await new Promise((r) => setTimeout(r, 100));
    const d = await open();
    assert.equal(d.status, 200);
    for (const x of [b, c, d]) x.close();
    streams.closeAllConnections();
    await new Promise((r) => streams.close(r));
  });
});

/** `portal serve` in its own process, so its memory is measured alone (the test runner's is noise). */
function serveInChild(dbUrl: string, root: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [BIN, '--db', dbUrl, 'serve', '--port', '0', '--no-watch', '--dev-sign-in'],
    {
      // Without NODE_TEST_CONTEXT: a child that inherits it reports to the test runner instead of printing.
      env: { ...process.env, NODE_TEST_CONTEXT: undefined, PORTAL_CATALOG_ROOT: root, PORTAL_API_TOKENS: '' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) resolve({ child, url: m[1] });
    });
    child.on('exit', (code) => reject(new Error(`portal serve exited ${code}`)));
  });
}

/** Resident memory of a process, from /proc (Linux). */
function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

describe('one streaming body limit, measured on a running portal serve (issue 11: 400 MB → 1.46 GB RSS)', () => {
  let child: ChildProcess;
  let port: number;
  let url: string;
  before(async () => {
    const dir = writeTree({ 'org/catalog-info.yaml': ORG, 'ledger/catalog-info.yaml': component('ledger') });
    const db = `file:${path.join(mkdtempSync(path.join(tmpdir(), 'lim-serve-')), 'p.db')}`;
    const store = await CatalogStore.open(db);
    const seed = new CatalogService(store, [dir]);
    await seed.ingest();
    await store.close();
    ({ child, url } = await serveInChild(db, dir));
    port = Number(new URL(url).port);
    // Warm up the paths under test the same way (a small oversized body, twice), so what is measured is
    // the 256 MB body, not first-use code loading (the audit log's client, the error paths).
    for (let i = 0; i < 2; i++)
      for (const p of ['/api/auth/sign-in', '/api/catalog/entities/by-refs'])
        await streamChunked(Number(new URL(url).port), p, 2 * 1024 * 1024);
  });
  after(() => {
    child.kill('SIGTERM');
  });

  it('refuses a chunked 256 MB body to /api/auth/sign-in with 413 without reading it: RSS grows by under 32 MB (was the whole body, several times over)', async () => {
    const before = rssOf(child.pid as number);
    const r = await streamChunked(port, '/api/auth/sign-in', 256 * 1024 * 1024);
    await new Promise((r) => setTimeout(r, 200));
    const grown = rssOf(child.pid as number) - before;
    // The server may answer 413 and close, or close while the sender is still writing; never 200/500.
    assert.ok(r.status === 413 || r.status === 0, `status ${r.status}`);
    if (r.status === 413) assert.match(r.body, /limit of 4096 bytes/);
    assert.ok(r.sent < 256 * 1024 * 1024, `the server stopped the upload early (sent ${r.sent} bytes)`);
    process.stdout.write(
      `# portal serve RSS grew by ${(grown / 1048576).toFixed(1)} MB (sent ${r.sent} bytes)\n`,
    );
    assert.ok(grown < 32 * 1024 * 1024, `RSS grew by ${(grown / 1048576).toFixed(1)} MB`);
    // The server is still there for everyone else.
    assert.equal((await fetch(`${url}/api/catalog/entities?filter=kind=component`)).status, 200);
  });

  it('applies the same limit to every body reader: a chunked 256 MB body to by-refs is a 413 naming its 256 KiB limit', async () => {
    const before = rssOf(child.pid as number);
    const r = await streamChunked(port, '/api/catalog/entities/by-refs', 256 * 1024 * 1024);
    await new Promise((r) => setTimeout(r, 200));
    const grown = rssOf(child.pid as number) - before;
    assert.ok(r.status === 413 || r.status === 0, `status ${r.status}`);
    if (r.status === 413) assert.match(r.body, /larger than 262144 bytes: at most 1000 refs/);
    assert.ok(r.sent < 256 * 1024 * 1024, `the server stopped the upload early (sent ${r.sent} bytes)`);
    process.stdout.write(
      `# portal serve RSS grew by ${(grown / 1048576).toFixed(1)} MB (sent ${r.sent} bytes)\n`,
    );
    assert.ok(grown < 32 * 1024 * 1024, `RSS grew by ${(grown / 1048576).toFixed(1)} MB`);
  });
});
