import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { component, ORG, writeTree } from '@bank/catalog/testing';

const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'portal.mjs');
const db = () => `file:${path.join(mkdtempSync(path.join(tmpdir(), 'cli-')), 'p.db')}`;
// Without NODE_TEST_CONTEXT: a child that inherits it reports to the test runner instead of printing.
const cleanEnv = () => {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  return env;
};
const portal = (args: string[], env: Record<string, string> = {}) => {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...cleanEnv(), ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('portal CLI', () => {
  const tree = writeTree({
    'org/catalog-info.yaml': ORG,
    'ledger/catalog-info.yaml': component('ledger', { tier: '1' }),
    'balance/catalog-info.yaml': component('balance', { dependsOn: ['component:ledger'] }),
  });

  it('a --json answer of megabytes comes through a pipe whole (the CLI waits for stdout before it exits)', () => {
    const big = writeTree({
      'org/catalog-info.yaml': ORG,
      'notes/catalog-info.yaml': component('notes').replace(
        'description: The notes service',
        `description: ${'a'.repeat(3 * 1024 * 1024)}`,
      ),
    });
    const url = db();
    const ingested = portal(['--db', url, 'ingest', big, '--json']);
    assert.equal(ingested.code, 0, ingested.stderr);
    const r = portal(['--db', url, 'get', 'notes', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const got = JSON.parse(r.stdout) as { metadata: { description: string } };
    assert.equal(got.metadata.description.length, 3 * 1024 * 1024);
  });

  it('ingest --json prints counts and errors, exit 0 when clean; get/list/owners read it back', () => {
    const url = db();
    const r = portal(['--db', url, 'ingest', tree, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { counts: Record<string, number>; errors: unknown[] };
    assert.deepEqual(out.counts, { component: 2, group: 4, user: 1 });
    assert.deepEqual(out.errors, []);
    const get = JSON.parse(portal(['--db', url, 'get', 'balance', '--json']).stdout) as {
      relations: { type: string; targetRef: string }[];
    };
    assert.ok(
      get.relations.some((x) => x.type === 'dependsOn' && x.targetRef === 'component:default/ledger'),
    );
    const human = portal(['--db', url, 'get', 'balance']);
    assert.match(human.stdout, /owner\s+group:ledger \(group:core-banking\)/);
    const list = JSON.parse(
      portal(['--db', url, 'list', '--kind', 'component', '--tier', '1', '--json']).stdout,
    ) as { metadata: { name: string } }[];
    assert.deepEqual(
      list.map((e) => e.metadata.name),
      ['ledger'],
    );
    const owners = JSON.parse(portal(['--db', url, 'owners', '--json']).stdout) as {
      group: string;
      services: number;
    }[];
    assert.deepEqual(owners[0], {
      group: 'group:default/ledger',
      title: 'group:default/ledger',
      collective: 'group:default/core-banking',
      services: 2,
      entities: 2,
    });
  });

  it('reports errors with file:line:column, exits 1, and `errors` lists them afterwards', () => {
    const bad = writeTree({
      'org/catalog-info.yaml': ORG,
      'x/catalog-info.yaml': component('x', { owner: 'ledgr' }),
    });
    // Under Backstage's rules (any tree but the bank's) a dangling owner is a warning: the entity is kept.
    const lenient = portal(['--db', db(), 'ingest', bad, '--json']);
    assert.equal(lenient.code, 0);
    const warned = JSON.parse(lenient.stdout) as { errors: { severity?: string; message: string }[] };
    assert.equal(warned.errors[0].severity, 'warning');
    assert.match(warned.errors[0].message, /owner "ledgr" does not exist/);
    // The bank's policy, where configured, refuses it.
    const bankPolicy = { PORTAL_BANK_POLICY: bad };
    const url = db();
    const r = portal(['--db', url, 'ingest', bad, '--json'], bankPolicy);
    assert.equal(r.code, 1);
    const out = JSON.parse(r.stdout) as {
      errors: { file: string; line: number; column: number; entityRef: string; message: string }[];
    };
    assert.equal(out.errors.length, 1);
    assert.equal(out.errors[0].line, 11);
    assert.equal(out.errors[0].column, 10);
    assert.equal(out.errors[0].entityRef, 'component:default/x');
    assert.match(out.errors[0].message, /owner "ledgr" does not exist .*did you mean group:default\/ledger/);
    const errors = portal(['--db', url, 'errors'], bankPolicy);
    assert.equal(errors.code, 1);
    assert.match(errors.stdout, /x\/catalog-info.yaml:11:10 {2}component:default\/x: owner "ledgr"/);
  });

  it('unknown names exit 1 with the closest matches; usage errors exit 2', () => {
    const url = db();
    portal(['--db', url, 'ingest', tree]);
    const r = portal(['--db', url, 'get', 'ledgr']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /No entity named "ledgr". Did you mean: component:default\/ledger\?/);
    assert.equal(portal(['--db', url, 'frobnicate']).code, 2);
    assert.equal(portal(['--db', url, 'get']).code, 2);
  });

  it('get and path resolve a short name by the same rules: every namespace, Components first, the same closest names', () => {
    const dir = writeTree({
      'org/catalog-info.yaml': ORG,
      'ledger/catalog-info.yaml': component('ledger', { tier: '1' }),
      'vault/catalog-info.yaml': component('vault', { owner: 'group:default/ledger' }).replace(
        'metadata:\n',
        'metadata:\n  namespace: legacy\n',
      ),
      'balance/catalog-info.yaml': component('balance', { dependsOn: ['component:legacy/vault'] }),
    });
    const url = db();
    assert.equal(portal(['--db', url, 'ingest', dir]).code, 0);
    // `vault` lives only in the legacy namespace: both find it.
    const get = portal(['--db', url, 'get', 'vault']);
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout, /^ref\s+component:legacy\/vault$/m);
    const path1 = portal(['--db', url, 'path', 'balance', 'vault', '--json']);
    assert.equal(path1.code, 0, path1.stderr);
    const hops = (JSON.parse(path1.stdout) as { paths: { hops: { ref: string }[] }[] }).paths.map((p) =>
      p.hops.map((h) => h.ref),
    );
    assert.deepEqual(hops, [['component:default/balance', 'component:legacy/vault']]);
    // `ledger` names a Component and a Group: both take the Component.
    assert.match(portal(['--db', url, 'get', 'ledger']).stdout, /^ref\s+component:default\/ledger$/m);
    const impact = portal(['--db', url, 'impact', 'ledger', '--json']);
    assert.equal((JSON.parse(impact.stdout) as { ref: string }).ref, 'component:default/ledger');
    // A typo: both name the same closest entity.
    const typoGet = portal(['--db', url, 'get', 'vaul']);
    assert.equal(typoGet.code, 1);
    assert.match(typoGet.stderr, /No entity named "vaul". Did you mean: component:legacy\/vault\?/);
    const typoPath = portal(['--db', url, 'path', 'balance', 'vaul']);
    assert.equal(typoPath.code, 1);
    assert.match(typoPath.stderr, /unknown ref 'vaul' \(to\); closest: vault\n/);
  });

  it('validate checks files without a database and exits 1 on problems', () => {
    const bad = writeTree({ 'catalog-info.yaml': 'kind: Component\nmetadata: {name: Bad_Name}\n' });
    const r = portal(['validate', bad, '--json']);
    assert.equal(r.code, 1);
    const out = JSON.parse(r.stdout) as { valid: boolean; errors: { message: string }[] };
    assert.equal(out.valid, false);
    assert.ok(out.errors.length > 0);
  });

  describe('serve', () => {
    const children: ChildProcess[] = [];
    after(() => {
      for (const c of children) c.kill('SIGTERM');
    });
    /** `portal serve` on a database and a catalogue root; resolves with its URL once it listens. */
    const serve = (url: string, root: string, ...flags: string[]) => {
      const child = spawn(process.execPath, [BIN, '--db', url, 'serve', '--port', '0', ...flags], {
        env: { ...cleanEnv(), PORTAL_CATALOG_ROOT: root },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(child);
      return new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout?.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening on (http:\/\/[^\s]+)/.exec(out);
          if (m) resolve(m[1]);
        });
        child.on('exit', (code) => reject(new Error(`serve exited ${code}`)));
      });
    };

    it('a taken port is said at once, before any re-index: which portal holds it, or that another program does, and a free --port', async () => {
      const dir = writeTree({
        'org/catalog-info.yaml': ORG,
        'ledger/catalog-info.yaml': component('ledger', { tier: '1' }),
      });
      const url = db();
      assert.equal(portal(['--db', url, 'ingest', dir]).code, 0);
      const base = await serve(url, dir, '--no-watch');
      const port = new URL(base).port;
      // A second start on the same port: no store opened, nothing indexed (its database is never created).
      const secondDb = path.join(mkdtempSync(path.join(tmpdir(), 'cli-')), 'second.db');
      const second = portal(['--db', `file:${secondDb}`, 'start', '--port', port], {
        PORTAL_CATALOG_ROOT: dir,
      });
      assert.equal(second.code, 1, second.stderr);
      assert.doesNotMatch(second.stdout, /indexed|building/);
      assert.equal(existsSync(secondDb), false, 'checked before opening the store');
      assert.match(
        second.stderr,
        new RegExp(
          `^portal: a portal is already running on http://127\\.0\\.0\\.1:${port} \\(catalogue ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, \\d+ entities, process \\d+, started [^)]+\\): open it, stop it \\(kill \\d+\\), or start another beside it with --port \\d+\\n$`,
        ),
      );
      // Another program on the port (in its own process: spawnSync blocks this one): said so, same hint.
      const other = spawn(
        process.execPath,
        [
          '-e',
          "require('http').createServer((q, s) => s.writeHead(404).end('nope')).listen(0, '127.0.0.1', function () { console.log(this.address().port) })",
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      children.push(other);
      const otherPort = await new Promise<string>((resolve) =>
        other.stdout?.once('data', (d: Buffer) => resolve(d.toString().trim())),
      );
      const r = portal(['--db', db(), 'serve', '--port', otherPort]);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        new RegExp(
          `^portal: port ${otherPort} on 127\\.0\\.0\\.1 is taken by another program \\(not a portal: its /healthz does not say so\\); stop it or use --port \\d+\\n$`,
        ),
      );
    });

    it('logs each broken descriptor once, on one line: its file, the first error and the count', async () => {
      const dir = writeTree({
        'org/catalog-info.yaml': ORG,
        'ledger/catalog-info.yaml': component('ledger', { tier: '1' }),
      });
      const url = db();
      assert.equal(portal(['--db', url, 'ingest', dir]).code, 0);
      const child = spawn(process.execPath, [BIN, '--db', url, 'serve', '--port', '0'], {
        env: { ...cleanEnv(), PORTAL_CATALOG_ROOT: dir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let out = '';
      let err = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.stderr?.on('data', (d: Buffer) => {
        err += d.toString();
      });
      const until = async (what: () => boolean, label: string) => {
        const t0 = Date.now();
        while (!what() && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 100));
        assert.ok(what(), `${label}; stderr: ${err}`);
      };
      await until(() => /listening on/.test(out), 'listening');
      await new Promise((r) => setTimeout(r, 500)); // the watcher is ready shortly after start
      // A tab for indentation: the YAML parser reports a cascade; the log has one line for the file.
      const file = path.join(dir, 'ledger/catalog-info.yaml');
      writeFileSync(file, component('ledger', { tier: '1' }).replace('  owner:', '\towner:'));
      await until(() => /ingest: /.test(err), 'the broken file is logged');
      await new Promise((r) => setTimeout(r, 300));
      const lines = err.split('\n').filter((l) => l.startsWith('ingest: '));
      assert.equal(lines.length, 1, err);
      assert.match(
        lines[0],
        /^ingest: error .*ledger\/catalog-info\.yaml:\d+:1: Malformed YAML: Tabs are not allowed as indentation; indent with spaces( \(\d+ more errors? follows? in this document, most likely from this one\))? \[1 error\]$/,
      );
    });

    it('binds 127.0.0.1 and makes an edited descriptor visible over HTTP without a restart', async () => {
      const dir = writeTree({
        'org/catalog-info.yaml': ORG,
        'ledger/catalog-info.yaml': component('ledger', { tier: '1' }),
      });
      const url = db();
      assert.equal(portal(['--db', url, 'ingest', dir]).code, 0);
      const base = await serve(url, dir);
      assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
      const tier = async () => {
        const res = await fetch(`${base}/api/catalog/entities/by-name/component/default/ledger`);
        return ((await res.json()) as { metadata: { annotations: Record<string, string> } }).metadata
          .annotations['bank.io/tier'];
      };
      assert.equal(await tier(), '1');
      // The watcher is ready shortly after start; write, then poll until the change shows.
      await new Promise((r) => setTimeout(r, 500));
      const edited = Date.now();
      writeFileSync(path.join(dir, 'ledger/catalog-info.yaml'), component('ledger', { tier: '3' }));
      let seen = await tier();
      while (seen !== '3' && Date.now() - edited < 20_000) {
        await new Promise((r) => setTimeout(r, 100));
        seen = await tier();
      }
      assert.equal(seen, '3', 'the edit is served without a restart');
      process.stdout.write(`# edit visible after ${Date.now() - edited} ms\n`);
    });

    it('serves what `portal ingest` in another terminal writes to its database: entities and paths through them', async () => {
      const core = writeTree({
        'org/catalog-info.yaml': ORG,
        'ledger/catalog-info.yaml': component('ledger', { tier: '1' }),
      });
      const cards = writeTree({
        'card-api/catalog-info.yaml': component('card-api', { dependsOn: ['component:ledger'] }),
      });
      const url = db();
      assert.equal(portal(['--db', url, 'ingest', core]).code, 0);
      const base = await serve(url, core, '--no-watch');
      const cardApi = () => fetch(`${base}/api/catalog/entities/by-name/component/default/card-api`);
      assert.equal((await cardApi()).status, 404);

      // Another process writes to the same database; the running portal was not told.
      const ingested = portal(['--db', url, 'ingest', cards, '--json']);
      assert.equal(ingested.code, 0, ingested.stderr);
      const written = Date.now();
      let status = (await cardApi()).status;
      while (status !== 200 && Date.now() - written < 20_000) {
        await new Promise((r) => setTimeout(r, 100));
        status = (await cardApi()).status;
      }
      assert.equal(status, 200, 'the other writer’s entity is served without a restart');
      const paths = (await (await fetch(`${base}/api/graph/paths?from=card-api&to=ledger`)).json()) as {
        paths: { nodes: string[] }[];
      };
      assert.equal(paths.paths.length, 1, 'the graph has the new edge too');
      // The other side of the relation is there too.
      const ledger = await (
        await fetch(`${base}/api/catalog/entities/by-name/component/default/ledger`)
      ).json();
      assert.ok(
        (ledger as { relations: { type: string; targetRef: string }[] }).relations.some(
          (r) => r.type === 'dependencyOf' && r.targetRef === 'component:default/card-api',
        ),
      );
      process.stdout.write(`# other writer's entity visible after ${Date.now() - written} ms\n`);
    });
  });
});
