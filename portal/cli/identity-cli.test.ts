/**
 * `portal token create|list|revoke`, `portal audit verify|list` and `portal serve --dev-sign-in`, run as a
 * user runs them (the real bin, a real SQLite file).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openDriver } from '@bank/catalog/sql';

const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'portal.mjs');
const portal = (args: string[]) => {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('portal token and audit commands', () => {
  const url = `file:${path.join(mkdtempSync(path.join(tmpdir(), 'cli-ident-')), 'p.db')}`;

  it('creates a scoped, expiring token shown once, lists it without the secret, and revokes it', () => {
    const created = portal([
      '--db',
      url,
      'token',
      'create',
      'ci-deployer',
      '--scope',
      'deploys:write,traces:write',
      '--expires',
      '30d',
      '--json',
    ]);
    assert.equal(created.code, 0, created.stderr);
    const token = JSON.parse(created.stdout) as {
      id: string;
      token: string;
      scopes: string[];
      expiresAt: string;
    };
    assert.match(token.token, /^ptl_/);
    assert.deepEqual(token.scopes, ['deploys:write', 'traces:write']);
    const days = (Date.parse(token.expiresAt) - Date.now()) / 86_400_000;
    assert.ok(days > 29.9 && days <= 30, `expires in 30 days, got ${days}`);
    const listed = portal(['--db', url, 'token', 'list', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(!listed.stdout.includes(token.token), 'the secret is shown once, never listed');
    const rows = JSON.parse(listed.stdout) as { name: string; revokedAt: string | null }[];
    assert.deepEqual(
      rows.map((r) => [r.name, r.revokedAt]),
      [['ci-deployer', null]],
    );
    const human = portal(['--db', url, 'token', 'list']);
    assert.match(human.stdout, /ci-deployer.*deploys:write traces:write.*active/);
    const revoked = portal(['--db', url, 'token', 'revoke', 'ci-deployer']);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, /revoked ci-deployer/);
    assert.match(portal(['--db', url, 'token', 'list']).stdout, /ci-deployer.*revoked/);
    const again = portal(['--db', url, 'token', 'revoke', 'ci-deployer']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /No active token/);
  });

  it('refuses unknown scopes, a missing scope and a bad expiry as usage errors (exit 2)', () => {
    const unknown = portal(['--db', url, 'token', 'create', 'x', '--scope', 'root']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown "root".*catalog:write/);
    assert.equal(portal(['--db', url, 'token', 'create', 'x']).code, 2, '--scope is required');
    const past = portal(['--db', url, 'token', 'create', 'x', '--scope', 'admin', '--expires', '2001-01-01']);
    assert.equal(past.code, 2);
    assert.match(past.stderr, /in the past/);
  });

  it('audit verify: exit 0 on an intact log; exit 1 naming the first tampered row', () => {
    const ok = portal(['--db', url, 'audit', 'verify']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(
      ok.stdout,
      /audit log intact: 2 chained rows/,
      'token.create and token.revoke were recorded',
    );
    const list = JSON.parse(portal(['--db', url, 'audit', 'list', '--json']).stdout) as {
      id: number;
      action: string;
    }[];
    const created = list.find((r) => r.action === 'token.create');
    assert.ok(created);
    const raw = openDriver(url);
    return raw
      .exec(`UPDATE "AuditEvent" SET "actor" = 'cli:someone-else' WHERE "id" = ${created.id}`)
      .then(() => raw.close())
      .then(() => {
        const bad = portal(['--db', url, 'audit', 'verify']);
        assert.equal(bad.code, 1);
        assert.match(
          bad.stdout,
          new RegExp(`TAMPERED at row ${created.id} .*content does not match its hash`),
        );
      });
  });

  it('sessions revoke ends every live session of a person and is audited', async () => {
    const url2 = `file:${path.join(mkdtempSync(path.join(tmpdir(), 'cli-sess-')), 'p.db')}`;
    const { CatalogStore } = await import('@bank/catalog');
    const store = await CatalogStore.open(url2);
    for (const id of ['a', 'b'])
      await store.addSession({
        id,
        userRef: 'user:default/jane.doe',
        via: 'oidc',
        expiresAt: new Date(Date.now() + 3600_000).toISOString(),
        client: null,
        userAgent: null,
      });
    await store.close();
    const r = portal(['--db', url2, 'sessions', 'revoke', 'jane.doe', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { user: 'user:default/jane.doe', revoked: 2 });
    const log = JSON.parse(portal(['--db', url2, 'audit', 'list', '--json']).stdout) as { action: string }[];
    assert.equal(log[0].action, 'session.revoke');
  });

  it('serve --dev-sign-in is refused beyond loopback (exit 2)', () => {
    const r = portal([
      '--db',
      url,
      'serve',
      '--host',
      '0.0.0.0',
      '--port',
      '0',
      '--dev-sign-in',
      '--no-watch',
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /only runs on loopback/);
  });
});
