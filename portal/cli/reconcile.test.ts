import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { component, ORG, writeTree } from '@bank/catalog/testing';

const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'portal.mjs');
// Without NODE_TEST_CONTEXT: a child that inherits it reports to the test runner instead of printing.
const env = (root: string) => ({ ...process.env, NODE_TEST_CONTEXT: undefined, PORTAL_CATALOG_ROOT: root });

describe('portal serve reconciles at start (issue 11: edits made while it was down were never picked up)', () => {
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  const serve = (db: string, root: string) => {
    const child = spawn(process.execPath, [BIN, '--db', db, 'serve', '--port', '0'], {
      env: env(root),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    return new Promise<{ child: ChildProcess; url: string; out: () => string }>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/[^\s]+)/.exec(out);
        if (m) resolve({ child, url: m[1], out: () => out });
      });
      child.on('exit', (code) => reject(new Error(`serve exited ${code}`)));
    });
  };

  it('after kill -9 mid-edit and a restart, every edit, new and deleted descriptor is served at once', async () => {
    const names = Array.from({ length: 40 }, (_, i) => `svc-${String(i).padStart(2, '0')}`);
    const files: Record<string, string> = { 'org/catalog-info.yaml': ORG };
    for (const n of names) files[`${n}/catalog-info.yaml`] = component(n, { tier: '2' });
    const root = writeTree(files);
    const db = `file:${path.join(mkdtempSync(path.join(tmpdir(), 'reconcile-')), 'p.db')}`;
    const ingested = spawnSync(process.execPath, [BIN, '--db', db, 'ingest', root], { env: env(root) });
    assert.equal(ingested.status, 0, String(ingested.stderr));

    const first = await serve(db, root);
    // Edits start while it runs; it is killed (no clean shutdown) in the middle of them.
    for (const n of names.slice(0, 10))
      writeFileSync(path.join(root, n, 'catalog-info.yaml'), component(n, { tier: '1' }));
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    // ...and go on while it is down.
    for (const n of names.slice(10))
      writeFileSync(path.join(root, n, 'catalog-info.yaml'), component(n, { tier: '1' }));
    writeTree({ 'added/catalog-info.yaml': component('added') }, root);
    rmSync(path.join(root, names[0]), { recursive: true });

    const second = await serve(db, root);
    // No polling: what is served right after "listening" already has every change.
    const tiers = await Promise.all(
      names.slice(1).map(async (n) => {
        const res = await fetch(`${second.url}/api/catalog/entities/by-name/component/default/${n}`);
        const e = (await res.json()) as { metadata: { annotations: Record<string, string> } };
        return e.metadata.annotations['bank.io/tier'];
      }),
    );
    assert.deepEqual(
      names.slice(1).filter((_, i) => tiers[i] !== '1'),
      [],
      'every edited descriptor is served with its edit',
    );
    assert.equal(
      (await fetch(`${second.url}/api/catalog/entities/by-name/component/default/added`)).status,
      200,
    );
    assert.equal(
      (await fetch(`${second.url}/api/catalog/entities/by-name/component/default/${names[0]}`)).status,
      404,
      'a descriptor deleted while it was down is gone',
    );
    assert.match(second.out(), /took in \d+ changes made while the portal was down/);
  });
});
