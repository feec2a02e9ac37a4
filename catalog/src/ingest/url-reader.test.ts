import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  DEFAULT_READ_MAX_BYTES,
  DEFAULT_READ_TIMEOUT_MS,
  isPrivateAddress,
  rawUrlOf,
  readerOptionsFromEnv,
  UrlReader,
  urlLocationAnnotations,
} from './url-reader.ts';

/** A real HTTP server on 127.0.0.1; each route records the requests it got. */
let server: http.Server;
let base: string;
let port: number;
const seen: { path: string; authorization?: string }[] = [];
let bigWritten = 0;

before(async () => {
  server = http.createServer((req, res) => {
    seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
    if (req.url === '/ok.yaml') return res.end('kind: Component\n');
    if (req.url === '/to-metadata')
      return res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    if (req.url === '/to-elsewhere')
      return res.writeHead(302, { location: 'http://example.org/x.yaml' }).end();
    if (req.url === '/to-localhost')
      return res.writeHead(302, { location: `http://localhost:${port}/ok.yaml` }).end();
    if (req.url === '/declared-big') {
      res.writeHead(200, { 'content-length': String(50 * 1024 * 1024) });
      return res.write('x'.repeat(1024));
    }
    if (req.url === '/streamed-big') {
      // No Content-Length: 64 KB chunks until the client hangs up (or 10 MB).
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 'y');
      const pump = () => {
        if (res.destroyed || bigWritten >= 10 * 1024 * 1024) return res.end();
        bigWritten += chunk.length;
        res.write(chunk, () => setImmediate(pump));
      };
      return pump();
    }
    if (req.url === '/silent') return; // never answers
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const reader = (extra: Partial<ConstructorParameters<typeof UrlReader>[0]> = {}) =>
  new UrlReader({
    allow: ['127.0.0.1', 'localhost', '169.254.169.254'],
    allowAddresses: ['127.0.0.1'],
    ...extra,
  });

describe('UrlReader: reading descriptors over HTTP within an allow-list (SSRF)', () => {
  it('reads an allowed host, and refuses a host not on the allow-list without connecting', async () => {
    assert.equal((await reader().read(`${base}/ok.yaml`)).body.toString(), 'kind: Component\n');
    const before = seen.length;
    await assert.rejects(
      new UrlReader({ allow: ['github.com'], allowAddresses: ['127.0.0.1'] }).read(`${base}/ok.yaml`),
      /host 127\.0\.0\.1:\d+ is not in the reading allow-list/,
    );
    assert.equal(seen.length, before, 'no request was made');
  });

  it('refuses loopback, private and link-local addresses unless the address is explicitly allowed', async () => {
    await assert.rejects(
      new UrlReader({ allow: ['127.0.0.1'] }).read(`${base}/ok.yaml`),
      /private, loopback or link-local address/,
    );
    // A name on the allow-list that resolves to loopback is refused too (checked after DNS).
    await assert.rejects(
      new UrlReader({ allow: ['localhost'] }).read(`http://localhost:${port}/ok.yaml`),
      /localhost:\d+ resolves to .*private, loopback or link-local/,
    );
    for (const a of [
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '::1',
      'fe80::1',
      '::ffff:127.0.0.1',
    ])
      assert.ok(isPrivateAddress(a), a);
    assert.ok(!isPrivateAddress('140.82.112.3'));
  });

  it('follows redirects only onto allowed hosts and public (or allowed) addresses', async () => {
    await assert.rejects(
      reader().read(`${base}/to-metadata`),
      /169\.254\.169\.254 is a private.*redirected from/,
    );
    await assert.rejects(
      reader().read(`${base}/to-elsewhere`),
      /example\.org is not in the reading allow-list/,
    );
  });

  it('sends a token only to the host it belongs to, not after a redirect to another host', async () => {
    const r = reader({ tokens: { '127.0.0.1': 'secret-token' }, allowAddresses: ['127.0.0.1', '::1'] });
    seen.length = 0;
    const got = await r.read(`${base}/to-localhost`);
    assert.equal(got.body.toString(), 'kind: Component\n');
    assert.deepEqual(seen, [
      { path: '/to-localhost', authorization: 'Bearer secret-token' },
      { path: '/ok.yaml', authorization: undefined },
    ]);
  });

  it('refuses an over-size body: from its Content-Length without reading it, and while streaming one without', async () => {
    await assert.rejects(
      reader({ maxBytes: 1024 * 1024 }).read(`${base}/declared-big`),
      /52428800 bytes is over the reading limit/,
    );
    await assert.rejects(
      reader({ maxBytes: 1024 * 1024 }).read(`${base}/streamed-big`),
      /more than 1048576 bytes/,
    );
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(bigWritten < 4 * 1024 * 1024, `the server stopped early: ${bigWritten} bytes written of 10 MB`);
  });

  it('gives up on a host that does not answer in time', async () => {
    await assert.rejects(reader({ timeoutMs: 300 }).read(`${base}/silent`), /no answer within 300 ms/);
  });

  // An environment of only these variables (NodeJS.ProcessEnv names NODE_ENV as required).
  const env = (vars: Record<string, string>) => vars as unknown as NodeJS.ProcessEnv;
  it('takes its allow-list, limits and tokens from the environment: tokens only for their own hosts', async () => {
    assert.deepEqual(readerOptionsFromEnv(env({})), {
      allow: [],
      allowAddresses: [],
      timeoutMs: DEFAULT_READ_TIMEOUT_MS,
      maxBytes: DEFAULT_READ_MAX_BYTES,
      tokens: {},
    });
    const opts = readerOptionsFromEnv(
      env({
        PORTAL_READING_ALLOW: ' github.com, git.bank.internal:8443 ,',
        PORTAL_READING_ALLOW_ADDRESSES: '10.1.2.3',
        PORTAL_READING_TIMEOUT_MS: '2500',
        PORTAL_READING_MAX_BYTES: 'lots',
        GITHUB_TOKEN: 'gh-token',
        GITLAB_TOKEN: 'gl-token',
        PORTAL_GITLAB_HOSTS: 'Git.Bank.Internal',
      }),
    );
    assert.deepEqual(opts.allow, ['github.com', 'git.bank.internal:8443']);
    assert.deepEqual(opts.allowAddresses, ['10.1.2.3']);
    assert.equal(opts.timeoutMs, 2500);
    assert.equal(opts.maxBytes, DEFAULT_READ_MAX_BYTES, 'a value that is not a number keeps the default');
    assert.deepEqual(opts.tokens, {
      'github.com': 'gh-token',
      'raw.githubusercontent.com': 'gh-token',
      'gitlab.com': 'gl-token',
      'git.bank.internal': 'gl-token',
    });
    // An empty allow-list reads nothing.
    await assert.rejects(new UrlReader(readerOptionsFromEnv(env({}))).read(`${base}/ok.yaml`), /allow/);
  });

  it("annotates what is read from a URL as Backstage's default integrations do: view, edit and source", () => {
    assert.deepEqual(urlLocationAnnotations('https://git.bank.internal/repo/catalog-info.yaml'), {
      'backstage.io/view-url': 'https://git.bank.internal/repo/catalog-info.yaml',
    });
    assert.deepEqual(
      urlLocationAnnotations(
        'https://github.com/backstage/backstage/blob/master/packages/app/catalog-info.yaml',
      ),
      {
        'backstage.io/view-url':
          'https://github.com/backstage/backstage/blob/master/packages/app/catalog-info.yaml',
        'backstage.io/edit-url':
          'https://github.com/backstage/backstage/edit/master/packages/app/catalog-info.yaml',
        'backstage.io/source-location':
          'url:https://github.com/backstage/backstage/tree/master/packages/app/',
      },
    );
    assert.deepEqual(urlLocationAnnotations('https://gitlab.com/acme/repo/-/blob/main/catalog-info.yaml'), {
      'backstage.io/view-url': 'https://gitlab.com/acme/repo/-/blob/main/catalog-info.yaml',
      'backstage.io/edit-url': 'https://gitlab.com/acme/repo/-/edit/main/catalog-info.yaml',
      'backstage.io/source-location': 'url:https://gitlab.com/acme/repo/-/blob/main/',
    });
  });

  it('reads GitHub and GitLab blob/ URLs as raw content', () => {
    assert.equal(
      rawUrlOf('https://github.com/backstage/backstage/blob/master/catalog-info.yaml'),
      'https://raw.githubusercontent.com/backstage/backstage/master/catalog-info.yaml',
    );
    assert.equal(
      rawUrlOf('https://gitlab.example.com/group/sub/project/-/blob/main/catalog-info.yaml'),
      'https://gitlab.example.com/group/sub/project/-/raw/main/catalog-info.yaml',
    );
    assert.equal(rawUrlOf(`${'https://'}example.com/a.yaml`), 'https://example.com/a.yaml');
  });
});
