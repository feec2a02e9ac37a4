// biome-ignore-all lint/suspicious/noTemplateCurlyInString: template syntax in strings is what these tests feed the scaffolder
/**
 * The real `portal` CLI (portal/bin/portal.mjs) over a temporary copy of the monorepo: `portal templates`,
 * `portal scaffold … --dry-run --json` (writes nothing), `portal scaffold … --json` (`{"dir","entityRef",
 * "files"}`, committed on a branch, in the catalogue), and bad input (exit 1, one problem per field).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type FixtureRepo, MAIN_ROOT, makeFixtureRepo } from './testing.ts';

describe('portal templates / portal scaffold', () => {
  let repo: FixtureRepo;

  const portal = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [path.join(MAIN_ROOT, 'portal', 'bin', 'portal.mjs'), ...args], {
        cwd: repo.root,
        env: {
          ...process.env,
          PORTAL_CATALOG_ROOT: path.join(repo.root, 'services'),
          DATABASE_URL: `file:${path.join(repo.root, '.portal.db')}`,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      child.stderr.on('data', (d) => {
        stderr += d;
      });
      child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    });

  before(() => {
    repo = makeFixtureRepo({ git: true });
    execFileSync('sh', ['-c', 'echo ".portal.db*" >> .git/info/exclude'], { cwd: repo.root });
  });
  after(() => repo?.cleanup());

  it('lists the templates', async () => {
    const r = await portal('templates', '--json');
    assert.equal(r.code, 0, r.stderr);
    const body = JSON.parse(r.stdout) as { templates: { name: string; required: string[] }[] };
    assert.deepEqual(
      body.templates.map((t) => t.name),
      ['event-consumer', 'typescript-service'],
    );
    assert.deepEqual(body.templates[1].required, ['name', 'description', 'owner']);
  });

  it('--dry-run --json prints dir, entityRef and files, and writes nothing', async () => {
    const r = await portal(
      'scaffold',
      'typescript-service',
      '--set',
      'name=cli-made',
      '--set',
      'owner=ledger',
      '--set',
      'description=Made by the CLI',
      '--set',
      'dependsOn=ledger,accounts',
      '--set',
      'tier=2',
      '--dry-run',
      '--json',
    );
    assert.equal(r.code, 0, r.stderr);
    const body = JSON.parse(r.stdout) as {
      dir: string;
      entityRef: string;
      files: string[];
      dryRun: boolean;
      manifests: { errors: string[] }[];
    };
    assert.equal(body.dir, 'services/cli-made');
    assert.equal(body.entityRef, 'component:default/cli-made');
    assert.ok(body.files.includes('src/clients.ts') && body.files.includes('k8s/networkpolicy.yaml'));
    assert.equal(body.dryRun, true);
    assert.ok(body.manifests.every((m) => m.errors.length === 0));
    assert.equal(existsSync(path.join(repo.root, 'services', 'cli-made')), false);
    assert.equal(
      execFileSync('git', ['status', '--porcelain', '--', 'services'], { cwd: repo.root, encoding: 'utf8' }),
      '',
    );
  });

  it('--json creates it: written, committed on the checked-out branch, in the catalogue with its relations', async () => {
    const r = await portal(
      'scaffold',
      'typescript-service',
      '--set',
      'name=cli-made',
      '--set',
      'owner=ledger',
      '--set',
      'description=Made by the CLI',
      '--set',
      'dependsOn=ledger,accounts',
      '--json',
    );
    assert.equal(r.code, 0, r.stderr);
    const body = JSON.parse(r.stdout) as {
      dir: string;
      entityRef: string;
      files: string[];
      branch: string;
      commitHash: string;
    };
    assert.equal(body.entityRef, 'component:default/cli-made');
    assert.equal(body.branch, 'main');
    assert.ok(existsSync(path.join(repo.root, body.dir, 'src', 'server.ts')));
    assert.equal(
      execFileSync('git', ['rev-parse', 'main'], { cwd: repo.root, encoding: 'utf8' }).trim(),
      body.commitHash,
    );
    assert.equal(
      execFileSync('git', ['status', '--porcelain', '--', 'services'], { cwd: repo.root, encoding: 'utf8' }),
      '',
    );
    const got = await portal('get', 'cli-made', '--json');
    assert.equal(got.code, 0, got.stderr);
    const entity = JSON.parse(got.stdout) as { relations: { type: string; targetRef: string }[] };
    assert.deepEqual(
      entity.relations
        .filter((x) => x.type === 'dependsOn' || x.type === 'consumesApi')
        .map((x) => `${x.type} ${x.targetRef}`),
      ['consumesApi api:default/ledger-rpc', 'dependsOn component:default/accounts'],
    );
  });

  it('bad input exits 1 with one problem per field, and writes nothing', async () => {
    const r = await portal(
      'scaffold',
      'typescript-service',
      '--set',
      'name=Cli_Bad',
      '--set',
      'owner=ledgr',
      '--set',
      'description=x ${{ parameters.name }}',
      '--set',
      'dependsOn=acounts',
      '--json',
    );
    assert.equal(r.code, 1);
    const body = JSON.parse(r.stdout) as { problems: { field: string; message: string }[] };
    assert.deepEqual(body.problems.map((p) => p.field).sort(), ['description']);
    const r2 = await portal(
      'scaffold',
      'typescript-service',
      '--set',
      'name=Cli_Bad',
      '--set',
      'owner=ledgr',
      '--set',
      'description=Fine words',
      '--set',
      'dependsOn=acounts',
    );
    assert.equal(r2.code, 1);
    assert.match(
      r2.stderr,
      /--set name: "Cli_Bad" is not a valid name: it has capital letters \(C, B\) and '_'/,
    );
    assert.match(
      r2.stderr,
      /--set owner: "ledgr" is not a group in the catalogue; did you mean group:default\/ledger\?/,
    );
    assert.match(
      r2.stderr,
      /--set dependsOn\[0\]: "acounts" is not a component in the catalogue; did you mean component:default\/accounts\?/,
    );
    const unknown = await portal('scaffold', '../etc', '--set', 'name=x');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /template: "\.\.\/etc" is not a template name/);
    assert.equal(existsSync(path.join(repo.root, 'services', 'cli-bad')), false);
  });
});
