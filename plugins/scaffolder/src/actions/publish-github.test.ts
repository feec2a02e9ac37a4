/**
 * publish:github against a TEST DOUBLE of GitHub's REST API (actions/testing.ts: a local HTTP server with
 * GitHub's recorded answers) and a real `git http-backend` receiving the push.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Transaction } from '../types.ts';
import { Workspace } from '../workspace.ts';
import { publishGithub } from './publish-github.ts';
import { DOUBLE_TOKEN, makeContext, type ProviderDouble, startProviderDouble } from './testing.ts';

function workspace(): Workspace {
  const ws = new Workspace();
  ws.write('README.md', '# payments-api\n');
  ws.write('src/index.ts', 'export const x = 1;\n');
  ws.write('bin/run', '#!/bin/sh\necho run\n', { executable: true });
  ws.symlink('docs/index.md', '../README.md');
  return ws;
}

describe('publish:github', () => {
  let gh: ProviderDouble;
  before(async () => {
    gh = await startProviderDouble();
  });
  after(() => gh.close());
  const env = () => ({ integrations: [gh.integration('github')] });

  it('dry-run sends nothing and shows every request it would send, without the token', async () => {
    const before = gh.received.length;
    const ctx = makeContext(
      {
        repoUrl: `${gh.host}?owner=acme&repo=payments-api`,
        description: 'Payments',
        repoVisibility: 'internal',
        topics: ['payments'],
      },
      { dryRun: true, workspace: workspace(), env: env() },
    );
    await publishGithub.handler(ctx);
    assert.equal(gh.received.length, before, 'no request reached GitHub');
    assert.equal(gh.gitRequests.length, 0);
    const requests = ctx.outputs.requests as {
      method: string;
      url: string;
      body?: Record<string, unknown>;
    }[];
    assert.deepEqual(
      requests.map((r) => `${r.method} ${r.url.replace(gh.url, '')}`),
      [
        'GET /api/v3/users/acme',
        'POST /api/v3/orgs/acme/repos',
        'PUT /api/v3/repos/acme/payments-api/topics',
        `git push https://${gh.host}/acme/payments-api.git`,
      ],
    );
    assert.deepEqual(requests[1]?.body, {
      name: 'payments-api',
      private: true,
      visibility: 'internal',
      description: 'Payments',
    });
    assert.deepEqual(((requests[3]?.body ?? {}) as { files: string[] }).files, [
      'README.md',
      'bin/run',
      'docs/index.md',
      'src/index.ts',
    ]);
    const shown = JSON.stringify({ requests, logs: ctx.logs, outputs: ctx.outputs });
    assert.ok(!shown.includes(DOUBLE_TOKEN), 'the token is never shown');
    assert.equal(ctx.outputs.repoContentsUrl, `https://${gh.host}/acme/payments-api/blob/master`);
  });

  it('creates the repository in the organisation and pushes the workspace as its first commit', async () => {
    const from = gh.received.length;
    const ctx = makeContext(
      {
        repoUrl: `${gh.host}?owner=acme&repo=ledger-sync`,
        description: 'Ledger sync',
        defaultBranch: 'main',
        gitCommitMessage: 'Scaffolded',
      },
      { workspace: workspace(), env: env() },
    );
    await publishGithub.handler(ctx);
    const sent = gh.received.slice(from);
    assert.deepEqual(
      sent.map((r) => `${r.method} ${r.path}`),
      ['GET /api/v3/users/acme', 'POST /api/v3/orgs/acme/repos'],
    );
    assert.ok(sent.every((r) => r.headers.authorization === `Bearer ${DOUBLE_TOKEN}`));
    assert.deepEqual(sent[1]?.body, { name: 'ledger-sync', private: true, description: 'Ledger sync' });
    // What landed in the repository: every file, the executable bit, the link, the message and author.
    const head = gh.git('acme/ledger-sync', 'rev-parse', 'refs/heads/main').trim();
    assert.equal(ctx.outputs.commitHash, head);
    assert.equal(
      gh.git('acme/ledger-sync', 'ls-tree', '-r', '--format=%(objectmode) %(path)', 'main'),
      '100644 README.md\n100755 bin/run\n120000 docs/index.md\n100644 src/index.ts\n',
    );
    assert.equal(gh.git('acme/ledger-sync', 'show', 'main:src/index.ts'), 'export const x = 1;\n');
    assert.equal(
      gh.git('acme/ledger-sync', 'log', '-1', '--format=%s|%an|%ae', 'main').trim(),
      'Scaffolded|jane.doe (portal scaffolder)|jane.doe@portal.bank.internal',
    );
    assert.equal(ctx.outputs.remoteUrl, `${gh.url}/git/acme/ledger-sync.git`);
    assert.equal(ctx.outputs.repoContentsUrl, `${gh.url}/acme/ledger-sync/blob/main`);
    assert.ok(gh.gitRequests.every((g) => g.authorization?.startsWith('Basic ')));
    assert.ok(!JSON.stringify({ logs: ctx.logs, outputs: ctx.outputs }).includes(DOUBLE_TOKEN));
  });

  it("a user owner's repository is created for the token's user; another user's is refused", async () => {
    const ctx = makeContext(
      { repoUrl: `${gh.host}?owner=jane&repo=notes` },
      { workspace: workspace(), env: env() },
    );
    await publishGithub.handler(ctx);
    assert.ok(gh.received.some((r) => r.method === 'POST' && r.path === '/api/v3/user/repos'));
    assert.equal(gh.git('jane/notes', 'show', 'master:README.md'), '# payments-api\n');
    await assert.rejects(
      publishGithub.handler(
        makeContext({ repoUrl: `${gh.host}?owner=bob&repo=notes` }, { workspace: workspace(), env: env() }),
      ),
      /bob is a user other than the token's \(jane\)/,
    );
  });

  it('refuses a host that is not a configured integration, sending nothing', async () => {
    const from = gh.received.length;
    const ctx = makeContext(
      { repoUrl: 'github.example.org?owner=acme&repo=x' },
      { workspace: workspace(), env: env() },
    );
    await assert.rejects(
      publishGithub.handler(ctx),
      /host github\.example\.org is not a configured github integration \(127\.0\.0\.1:\d+\)/,
    );
    assert.equal(gh.received.length, from);
  });

  it('refuses hostile repoUrl parts and branch names before sending anything', async () => {
    const from = gh.received.length;
    for (const [input, re] of [
      [{ repoUrl: `${gh.host}?owner=..&repo=x` }, /owner "\.\." is not a valid owner/],
      [
        { repoUrl: `${gh.host}?owner=acme&repo=a%2F..%2Fb` },
        /repo "a\/\.\.\/b" is not a valid repository name/,
      ],
      [
        { repoUrl: `${gh.host}?owner=acme&repo=x`, defaultBranch: '--upload-pack=evil' },
        /defaultBranch: "--upload-pack=evil" is not a valid branch name/,
      ],
      [{ repoUrl: `${gh.host}?owner=acme&repo=x`, defaultBranch: 'a..b' }, /not a valid branch name/],
      [{ repoUrl: 'just-a-string' }, /must be like "github\.com\?owner=o&repo=r"/],
    ] as const) {
      await assert.rejects(
        publishGithub.handler(makeContext(input, { workspace: workspace(), env: env() })),
        re,
      );
    }
    assert.equal(gh.received.length, from);
  });

  it('does not push the token to a clone URL on another host', async () => {
    const pushes = gh.gitRequests.length;
    const ctx = makeContext(
      { repoUrl: `${gh.host}?owner=acme&repo=elsewhere` },
      { workspace: workspace(), env: env() },
    );
    await assert.rejects(
      publishGithub.handler(ctx),
      /clone URL http:\/\/evil\.example\/acme\/elsewhere\.git is not on 127\.0\.0\.1:\d+; not pushing the token there/,
    );
    assert.equal(gh.gitRequests.length, pushes);
  });

  it("GitHub's refusal is reported with its message, and a bad token never appears in the error", async () => {
    await assert.rejects(
      publishGithub.handler(
        makeContext({ repoUrl: `${gh.host}?owner=acme&repo=exists` }, { workspace: workspace(), env: env() }),
      ),
      /POST http:\/\/127\.0\.0\.1:\d+\/api\/v3\/orgs\/acme\/repos: HTTP 422 "Repository creation failed\."/,
    );
    const wrong = { ...gh.integration('github'), token: 'ghp_wrong_secret_value' };
    const err = await publishGithub
      .handler(
        makeContext(
          { repoUrl: `${gh.host}?owner=acme&repo=y` },
          { workspace: workspace(), env: { integrations: [wrong] } },
        ),
      )
      .then(
        () => undefined,
        (e: Error) => e,
      );
    assert.match(String(err?.message), /HTTP 401 "Bad credentials"/);
    assert.ok(!String(err?.message).includes('ghp_wrong_secret_value'));
  });

  it('a failure later in the task deletes the repository this task created', async () => {
    const tx = new Transaction();
    const ctx = makeContext(
      { repoUrl: `${gh.host}?owner=acme&repo=rolled-back` },
      { workspace: workspace(), env: env(), tx },
    );
    await publishGithub.handler(ctx);
    assert.ok(gh.git('acme/rolled-back', 'rev-parse', 'master'));
    const log: string[] = [];
    assert.deepEqual(await tx.rollback((m) => log.push(m)), []);
    assert.ok(gh.received.some((r) => r.method === 'DELETE' && r.path === '/api/v3/repos/acme/rolled-back'));
    assert.throws(() => gh.git('acme/rolled-back', 'rev-parse', 'master'));
  });
});
