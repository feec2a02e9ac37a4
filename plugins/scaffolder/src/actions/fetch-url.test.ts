// biome-ignore-all lint/suspicious/noTemplateCurlyInString: skeleton files hold the template language
/**
 * fetch:template and fetch:plain from URL skeletons, through the catalogue's URL reader (allow-list,
 * redirects re-checked). A local HTTP server serves archives made with the real `tar`, a GitHub-style
 * tarball endpoint (TEST DOUBLE of GitHub's `GET /repos/{o}/{r}/tarball/{ref}`), and hostile archives.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UrlReader } from '@bank/catalog';
import { Workspace } from '../workspace.ts';
import { builtinActions } from './index.ts';
import { makeContext } from './testing.ts';

const fetchTemplate = builtinActions().find((a) => a.id === 'fetch:template');
const fetchPlain = builtinActions().find((a) => a.id === 'fetch:plain');

function tarball(files: Record<string, string>, links: Record<string, string> = {}, top = ''): Buffer {
  const dir = mkdtempSync(path.join(tmpdir(), 'skeleton-'));
  const root = top ? path.join(dir, top) : dir;
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  }
  for (const [rel, target] of Object.entries(links)) symlinkSync(target, path.join(root, rel));
  const out = path.join(dir, '..', `${path.basename(dir)}.tgz`);
  execFileSync('tar', ['czf', out, '-C', dir, top || '.']);
  const bytes = readFileSync(out);
  rmSync(dir, { recursive: true, force: true });
  rmSync(out);
  return bytes;
}

describe('fetch:template / fetch:plain from a URL', () => {
  let server: http.Server;
  let base = '';
  let host = '';
  const served: string[] = [];
  before(async () => {
    const skeleton = tarball({
      'catalog-info.yaml': 'metadata:\n  name: ${{ values.name }}\n',
      'src/${{ values.name }}.ts': 'export const name = "${{ values.name }}";\n',
    });
    const github = tarball(
      { 'skeleton/README.md': '# ${{ values.name }}\n', 'other/ignored.txt': 'x' },
      {},
      'acme-templates-0a1b2c3',
    );
    const evil = tarball({ 'ok.txt': 'ok' }, { passwd: '/etc/passwd' });
    server = http.createServer((req, res) => {
      served.push(req.url ?? '');
      const bodies: Record<string, Buffer | string> = {
        '/skeleton.tar.gz': skeleton,
        '/api/v3/repos/acme/templates/tarball/main': github,
        '/evil.tgz': evil,
        '/files/LICENSE': 'MIT ${{ values.name }}',
      };
      if (req.url === '/redirect.tgz') {
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data.tgz' });
        return res.end();
      }
      const b = bodies[req.url ?? ''];
      if (!b) {
        res.writeHead(404);
        return res.end();
      }
      res.writeHead(200);
      res.end(b);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    base = `http://${host}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const env = () => ({
    reader: new UrlReader({ allow: [host], allowAddresses: ['127.0.0.1'] }),
    integrations: [{ type: 'github' as const, host, apiBaseUrl: `${base}/api/v3`, token: 't' }],
  });

  it('renders a .tar.gz skeleton into targetPath', async () => {
    const ws = new Workspace();
    await fetchTemplate?.handler(
      makeContext(
        { url: `${base}/skeleton.tar.gz`, targetPath: 'svc', values: { name: 'ledger' } },
        { workspace: ws, env: env() },
      ),
    );
    assert.deepEqual(
      ws.list().map((e) => e.path),
      ['svc/catalog-info.yaml', 'svc/src/ledger.ts'],
    );
    const f = ws.get('svc/src/ledger.ts');
    assert.equal(f?.kind === 'file' ? f.content.toString() : '', 'export const name = "ledger";\n');
  });

  it("reads a GitHub tree URL as the repository's tarball through the integration's API, taking that directory", async () => {
    const ws = new Workspace();
    await fetchTemplate?.handler(
      makeContext(
        { url: `https://${host}/acme/templates/tree/main/skeleton`, values: { name: 'fx' } },
        { workspace: ws, env: env() },
      ),
    );
    assert.deepEqual(
      ws.list().map((e) => e.path),
      ['README.md'],
    );
    assert.ok(served.includes('/api/v3/repos/acme/templates/tarball/main'));
  });

  it('fetch:plain copies a single file without rendering it', async () => {
    const ws = new Workspace();
    await fetchPlain?.handler(makeContext({ url: `${base}/files/LICENSE` }, { workspace: ws, env: env() }));
    const f = ws.get('LICENSE');
    assert.equal(f?.kind === 'file' ? f.content.toString() : '', 'MIT ${{ values.name }}');
  });

  it('refuses hosts off the allow-list, redirects to metadata addresses, archives with links, other schemes', async () => {
    const cases: [string, RegExp][] = [
      ['http://example.org/skeleton.tar.gz', /host example\.org is not in the reading allow-list/],
      [`${base}/redirect.tgz`, /169\.254\.169\.254 is not in the reading allow-list/],
      [
        `${base}/evil.tgz`,
        /entry "\.\/passwd" is a symbolic link; archives may hold only files and directories/,
      ],
      [`${base}/missing.tgz`, /HTTP 404/],
      ['file:///etc/passwd', /only paths inside the template and http\(s\) URLs are allowed/],
    ];
    for (const [url, re] of cases) {
      const ws = new Workspace();
      await assert.rejects(
        fetchTemplate?.handler(makeContext({ url }, { workspace: ws, env: env() })) as Promise<void>,
        re,
      );
      assert.equal(ws.size, 0, `nothing written for ${url}`);
    }
    assert.ok(!served.includes('/latest/meta-data.tgz'));
  });
});
