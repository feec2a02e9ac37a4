/**
 * Where `portal path|impact|get` take their answers from (issue 14: a CLI that answers at once): a running
 * portal on the same database, else (path, impact) the graph index saved beside the store and (get) the
 * catalogue snapshot, when they are of the store's generation, else the store (which writes them afresh).
 * A stale or unreadable snapshot or saved index is rebuilt and nothing in the store is lost. The real
 * compiled `portal`, real SQLite files, a real `portal serve`.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { component, ORG, writeTree } from '@bank/catalog/testing';
import { buildGraphIndex } from '@bank/graph';
import { readGraphIndexFile, writeGraphIndexFile } from '@bank/graph/saved-index';
import { isSnapshot, readSnapshot } from '@bank/plugin-catalog/snapshot';
import { CatalogView } from '@bank/plugin-catalog/view';

const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'portal.mjs');
/** A fresh database file, and the snapshot and saved graph index the portal keeps beside it. */
const store = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cli-answers-'));
  return {
    url: `file:${path.join(dir, 'p.db')}`,
    snapshot: path.join(dir, 'p.graph.snapshot'),
    index: path.join(dir, 'p.graph.index'),
  };
};
const savedGeneration = (file: string) => {
  const saved = readGraphIndexFile(file);
  assert.ok('generation' in saved, JSON.stringify(saved));
  return saved.generation;
};
const cleanEnv = (env: Record<string, string>) => {
  const e: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete e.NODE_TEST_CONTEXT;
  // No portal a developer happens to run on this machine may answer these tests.
  if (!('PORTAL_URL' in env)) e.PORTAL_URL = 'none';
  return e;
};
const portal = (args: string[], env: Record<string, string> = {}) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: cleanEnv(env) });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};
const tree = () =>
  writeTree({
    'org/catalog-info.yaml': ORG,
    'ledger/catalog-info.yaml': component('ledger', { tier: '1' }),
    'balance/catalog-info.yaml': component('balance', { dependsOn: ['component:ledger'] }),
    'cards/catalog-info.yaml': component('cards', { dependsOn: ['component:balance'] }),
  });
const hops = (stdout: string) =>
  (JSON.parse(stdout) as { paths: { hops: { name: string; title: string }[] }[] }).paths.map((p) =>
    p.hops.map((h) => h.name),
  );
const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'));

describe('portal path, impact and get: where the answer comes from', () => {
  it('ingest writes the snapshot and the graph index; path and impact read the index, get the snapshot, while they are of the store generation', () => {
    const s = store();
    const root = tree();
    assert.equal(portal(['--db', s.url, 'ingest', root]).code, 0);
    assert.ok(existsSync(s.snapshot), 'ingest wrote the snapshot beside the store');
    const snap = readJson(s.snapshot);
    assert.equal(savedGeneration(s.index), snap.generation, 'and the graph index, at the same generation');
    // Mark both (same generation) so each answer shows where it came from: a title only that file has.
    const loaded = readSnapshot(s.snapshot);
    assert.ok(isSnapshot(loaded));
    const entities = new CatalogView(loaded.entities, loaded.relations)
      .all()
      .map((e) =>
        e.metadata.name === 'cards'
          ? { ...e, metadata: { ...e.metadata, title: 'Cards (from the graph index)' } }
          : e,
      );
    writeGraphIndexFile(s.index, buildGraphIndex(entities), snap.generation);
    const cards = snap.entities.find((e: { ref: string }) => e.ref === 'component:default/cards');
    cards.entity.metadata.title = 'Cards (from the snapshot)';
    writeFileSync(s.snapshot, JSON.stringify(snap));

    const path1 = portal(['--db', s.url, 'path', 'cards', 'ledger', '--json']);
    assert.equal(path1.code, 0, path1.stderr);
    assert.deepEqual(hops(path1.stdout), [['cards', 'balance', 'ledger']]);
    assert.match(path1.stdout, /Cards \(from the graph index\)/);
    const impact = portal(['--db', s.url, 'impact', 'ledger', '--json']);
    assert.equal(impact.code, 0, impact.stderr);
    assert.deepEqual(
      (JSON.parse(impact.stdout) as { dependents: { ref: string }[] }).dependents.map((d) => d.ref).sort(),
      ['component:default/balance', 'component:default/cards'],
    );
    const get = portal(['--db', s.url, 'get', 'cards']);
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout, /Cards \(from the snapshot\)/);
    assert.equal(path1.stderr + impact.stderr + get.stderr, '', 'nothing to say when both are good');
  });

  it('a stale snapshot and graph index (the store moved on) are not used: the answer is the store, and both are rewritten', () => {
    const s = store();
    const root = tree();
    assert.equal(portal(['--db', s.url, 'ingest', root]).code, 0);
    const before = readJson(s.snapshot).generation as number;
    // Another writer moves the store on and leaves old files behind (as a crash between the two would).
    const old = readFileSync(s.snapshot, 'utf8');
    const oldIndex = readFileSync(s.index);
    writeTree({ 'feed/catalog-info.yaml': component('feed', { dependsOn: ['component:cards'] }) }, root);
    assert.equal(portal(['--db', s.url, 'ingest', root]).code, 0);
    writeFileSync(s.snapshot, old);
    writeFileSync(s.index, oldIndex);

    const r = portal(['--db', s.url, 'path', 'feed', 'ledger', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(hops(r.stdout), [['feed', 'cards', 'balance', 'ledger']]);
    const after = readJson(s.snapshot);
    assert.ok(after.generation > before, 'the snapshot was rebuilt at the store generation');
    assert.ok(after.entities.some((e: { ref: string }) => e.ref === 'component:default/feed'));
    assert.equal(savedGeneration(s.index), after.generation, 'the graph index was saved again too');
  });

  it('a corrupt snapshot or graph index is said clearly and rebuilt; the catalogue loses nothing', () => {
    const s = store();
    assert.equal(portal(['--db', s.url, 'ingest', tree()]).code, 0);
    const listed = portal(['--db', s.url, 'list', '--json']).stdout;
    const escaped = (file: string) => file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    for (const garbage of ['{"format": "portal-catalogue-snap', '{"hello": 1}', '']) {
      writeFileSync(s.snapshot, garbage);
      writeFileSync(s.index, garbage);
      const r = portal(['--db', s.url, 'path', 'cards', 'ledger', '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(hops(r.stdout), [['cards', 'balance', 'ledger']]);
      assert.match(
        r.stderr,
        new RegExp(
          `^portal: the saved graph index ${escaped(s.index)} (has no header line|has a header that is not JSON|is not a saved graph index)[^\\n]*; building it again\\n` +
            `portal: the catalogue snapshot ${escaped(s.snapshot)} (is not valid JSON|is not a catalogue snapshot)[^\\n]*; rebuilding it from the database\\n$`,
        ),
      );
      assert.equal(readJson(s.snapshot).format, 'portal-catalogue-snapshot', 'rewritten whole');
      assert.equal(savedGeneration(s.index), readJson(s.snapshot).generation, 'the graph index too');
      assert.equal(portal(['--db', s.url, 'list', '--json']).stdout, listed, 'nothing lost');
    }
  });

  describe('a running portal', () => {
    const children: ChildProcess[] = [];
    after(() => {
      for (const c of children) c.kill('SIGTERM');
    });
    const serve = (url: string, root: string) => {
      const child = spawn(process.execPath, [BIN, '--db', url, 'serve', '--port', '0', '--no-watch'], {
        env: cleanEnv({ PORTAL_CATALOG_ROOT: root }),
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

    it('answers path and impact when it serves the same database, and only then', async () => {
      const served = store();
      const root = tree();
      assert.equal(portal(['--db', served.url, 'ingest', root]).code, 0);
      const base = await serve(served.url, root);
      const port = new URL(base).port;

      // PORTAL_URL names it: it is asked whatever database this command was given (here an empty one).
      const empty = store();
      // Asked with node:http: the global fetch would load undici first (~130 ms of a ~200 ms answer).
      const asked = portal(['--db', empty.url, 'path', 'cards', 'ledger', '--json'], {
        PORTAL_URL: base,
        NODE_OPTIONS: `--import=data:text/javascript,${encodeURIComponent(
          "process.on('exit', () => { if (process.moduleLoadList.some((m) => m.includes('undici'))) process.stderr.write('undici loaded'); })",
        )}`,
      });
      assert.equal(asked.code, 0, asked.stderr);
      assert.deepEqual(hops(asked.stdout), [['cards', 'balance', 'ledger']]);
      assert.doesNotMatch(asked.stderr, /undici loaded/);
      assert.equal(existsSync(empty.snapshot), false, 'the local catalogue was never read');
      const impact = portal(['--db', empty.url, 'impact', 'ledger', '--json'], { PORTAL_URL: base });
      assert.equal(impact.code, 0, impact.stderr);
      assert.equal((JSON.parse(impact.stdout) as { total: number }).total, 2);
      // Its errors are the CLI's: an unknown name exits 1 with the closest match, a bad option exits 2.
      const unknown = portal(['--db', empty.url, 'path', 'cardz', 'ledger'], { PORTAL_URL: base });
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /unknown ref 'cardz'.*closest: cards/);
      const bad = portal(['--db', empty.url, 'path', 'cards', 'ledger', '--k', '99'], { PORTAL_URL: base });
      assert.equal(bad.code, 2, bad.stderr);

      // The local portal (found by its port) is asked only when it serves this command's database.
      const same = portal(['--db', served.url, 'path', 'cards', 'ledger', '--json'], {
        PORTAL_URL: '',
        PORT: port,
      });
      assert.equal(same.code, 0, same.stderr);
      assert.deepEqual(hops(same.stdout), [['cards', 'balance', 'ledger']]);
      const other = portal(['--db', empty.url, 'path', 'cards', 'ledger'], { PORTAL_URL: '', PORT: port });
      assert.equal(other.code, 1, 'the empty database was asked, not the portal serving another one');
      assert.match(other.stderr, /unknown ref 'cards'/);
    });

    it('a PORTAL_URL that does not answer is said, and the local catalogue answers', () => {
      const s = store();
      assert.equal(portal(['--db', s.url, 'ingest', tree()]).code, 0);
      // A port nobody listens on (closed at once): refused within the probe's short timeout.
      const r = portal(['--db', s.url, 'path', 'cards', 'ledger', '--json'], {
        PORTAL_URL: 'http://127.0.0.1:9',
      });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(hops(r.stdout), [['cards', 'balance', 'ledger']]);
      assert.match(
        r.stderr,
        /^portal: http:\/\/127\.0\.0\.1:9 did not answer \(.*\); answering from the local catalogue\n$/,
      );
    });
  });
});
