import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConflictError } from '@bank/plugin-kit';
import { Transaction } from '../types.ts';
import { Workspace } from '../workspace.ts';
import { publishMonorepo } from './publish-monorepo.ts';
import { makeContext } from './testing.ts';

/** A repository root (not a git repository) with an empty services/. */
function repoRoot(): string {
  const root = realpathSync(mkdtempSync(path.join(tmpdir(), 'publish-monorepo-')));
  mkdirSync(path.join(root, 'services'));
  return root;
}

function workspace(): Workspace {
  const ws = new Workspace();
  ws.write('catalog-info.yaml', 'kind: Component\n');
  ws.write('bin/start.sh', '#!/bin/sh\n', { executable: true });
  ws.symlink('docs', 'bin');
  return ws;
}

describe('publish:monorepo', () => {
  it('writes the workspace into services/<name> with modes and links; the rollback removes it', async () => {
    const root = repoRoot();
    const tx = new Transaction();
    const ctx = makeContext(
      { name: 'payments' },
      { workspace: workspace(), tx, env: { repoRoot: root, servicesDir: path.join(root, 'services') } },
    );
    await publishMonorepo.handler(ctx);
    const dir = path.join(root, 'services/payments');
    assert.equal(readFileSync(path.join(dir, 'catalog-info.yaml'), 'utf8'), 'kind: Component\n');
    assert.equal(readFileSync(path.join(dir, 'docs/start.sh'), 'utf8'), '#!/bin/sh\n', 'the link resolves');
    assert.equal(ctx.outputs.dir, 'services/payments');
    assert.equal(ctx.outputs.repoContentsUrl, 'file:services/payments');
    assert.deepEqual(readdirSync(path.join(root, 'services')), ['payments'], 'no staging left behind');
    await tx.rollback(() => undefined);
    assert.equal(existsSync(dir), false);
  });

  it('in a dry-run says what it would write and writes nothing; an existing directory is a conflict', async () => {
    const root = repoRoot();
    const env = { repoRoot: root, servicesDir: path.join(root, 'services') };
    const dry = makeContext({ name: 'payments' }, { workspace: workspace(), env, dryRun: true });
    await publishMonorepo.handler(dry);
    assert.match(dry.logs[0], /would write 3 files into services\/payments/);
    assert.deepEqual(readdirSync(path.join(root, 'services')), []);
    mkdirSync(path.join(root, 'services/payments'));
    await assert.rejects(
      publishMonorepo.handler(makeContext({ name: 'payments' }, { workspace: workspace(), env })),
      (err: Error) => err instanceof ConflictError && /services\/payments already exists/.test(err.message),
    );
  });

  it("refuses a name that is a path and alsoWrite outside other services' k8s/ manifests", async () => {
    const root = repoRoot();
    const env = { repoRoot: root, servicesDir: path.join(root, 'services') };
    await assert.rejects(
      publishMonorepo.handler(makeContext({ name: '../etc' }, { workspace: workspace(), env })),
      /input\.name: "\.\.\/etc" is not a DNS label/,
    );
    const also = { name: 'payments', alsoWrite: [{ path: 'package.json', content: '{}', sha256: 'x' }] };
    await assert.rejects(
      publishMonorepo.handler(makeContext(also, { workspace: workspace(), env })),
      /alsoWrite\[0\]\.path: "package\.json" is not another service's k8s\/ manifest/,
    );
    assert.deepEqual(readdirSync(path.join(root, 'services')), []);
  });
});
