/**
 * publish:github:pull-request against a TEST DOUBLE of GitHub's REST API (actions/testing.ts): the git
 * data API (blobs, trees, commits, refs) and pulls, as Backstage's action calls them; the base branch is
 * read from a real bare repository.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Transaction } from '../types.ts';
import { Workspace } from '../workspace.ts';
import { githubPullRequest } from './github-pull-request.ts';
import { DOUBLE_TOKEN, makeContext, type ProviderDouble, startProviderDouble } from './testing.ts';

function workspace(): Workspace {
  const ws = new Workspace();
  ws.write('catalog-info.yaml', 'kind: Component\n');
  ws.write('docs/bin.dat', Buffer.from([0, 1, 2, 255]));
  return ws;
}

describe('publish:github:pull-request', () => {
  let gh: ProviderDouble;
  let baseSha: string;
  before(async () => {
    gh = await startProviderDouble();
    baseSha = gh.seedRepo('acme/estate', { 'README.md': '# estate\n' });
  });
  after(() => gh.close());
  const env = () => ({ integrations: [gh.integration('github')] });
  const input = (extra: Record<string, unknown> = {}) => ({
    repoUrl: `${gh.host}?owner=acme&repo=estate`,
    branchName: 'add-payments-api',
    title: 'Add payments-api',
    description: 'Created by the portal',
    targetPath: 'services/payments-api',
    ...extra,
  });

  it('dry-run sends nothing and lists the requests it would send', async () => {
    const from = gh.received.length;
    const ctx = makeContext(input(), { dryRun: true, workspace: workspace(), env: env() });
    await githubPullRequest.handler(ctx);
    assert.equal(gh.received.length, from);
    const requests = ctx.outputs.requests as {
      method: string;
      url: string;
      body?: Record<string, unknown>;
    }[];
    assert.deepEqual(
      requests.map((r) => `${r.method} ${r.url.replace(gh.url, '')}`),
      [
        'GET /api/v3/repos/acme/estate',
        'GET /api/v3/repos/acme/estate/git/ref/heads/<default branch>',
        'GET /api/v3/repos/acme/estate/git/commits/<sha of the base branch>',
        'POST /api/v3/repos/acme/estate/git/blobs',
        'POST /api/v3/repos/acme/estate/git/blobs',
        'POST /api/v3/repos/acme/estate/git/trees',
        'POST /api/v3/repos/acme/estate/git/commits',
        'POST /api/v3/repos/acme/estate/git/refs',
        'POST /api/v3/repos/acme/estate/pulls',
      ],
    );
    assert.deepEqual(requests[8]?.body, {
      title: 'Add payments-api',
      body: 'Created by the portal',
      head: 'add-payments-api',
      base: '<default branch>',
      draft: false,
    });
    assert.ok(!JSON.stringify({ requests, logs: ctx.logs }).includes(DOUBLE_TOKEN));
  });

  it('commits the workspace under targetPath on a new branch from the base and opens the pull request', async () => {
    const from = gh.received.length;
    const ctx = makeContext(input({ reviewers: ['octocat'], draft: true }), {
      workspace: workspace(),
      env: env(),
    });
    await githubPullRequest.handler(ctx);
    const sent = gh.received.slice(from);
    assert.ok(sent.every((r) => r.headers.authorization === `Bearer ${DOUBLE_TOKEN}`));
    const by = (m: string, suffix: string) => sent.filter((r) => r.method === m && r.path.endsWith(suffix));
    const blobs = by('POST', '/git/blobs').map((r) => r.body as { content: string; encoding: string });
    assert.deepEqual(
      blobs.map((b) => Buffer.from(b.content, 'base64')),
      [Buffer.from('kind: Component\n'), Buffer.from([0, 1, 2, 255])],
    );
    const tree = by('POST', '/git/trees')[0]?.body as {
      base_tree: string;
      tree: { path: string; mode: string }[];
    };
    assert.equal(tree.base_tree, gh.git('acme/estate', 'rev-parse', 'main^{tree}').trim());
    assert.deepEqual(
      tree.tree.map((t) => `${t.mode} ${t.path}`),
      ['100644 services/payments-api/catalog-info.yaml', '100644 services/payments-api/docs/bin.dat'],
    );
    const commit = by('POST', '/git/commits')[0]?.body as { parents: string[]; message: string };
    assert.deepEqual(commit.parents, [baseSha]);
    assert.equal(commit.message, 'Add payments-api');
    assert.equal(
      ((by('POST', '/git/refs')[0]?.body ?? {}) as { ref: string }).ref,
      'refs/heads/add-payments-api',
    );
    assert.deepEqual(by('POST', '/pulls')[0]?.body, {
      title: 'Add payments-api',
      body: 'Created by the portal',
      head: 'add-payments-api',
      base: 'main',
      draft: true,
    });
    assert.deepEqual(by('POST', '/requested_reviewers')[0]?.body, {
      reviewers: ['octocat'],
      team_reviewers: [],
    });
    assert.equal(ctx.outputs.pullRequestNumber, 1347);
    assert.equal(ctx.outputs.remoteUrl, `${gh.url}/acme/estate/pull/1347`);
    assert.equal(ctx.outputs.targetBranchName, 'main');
  });

  it('a base branch that does not exist is named; no branch or pull request is created', async () => {
    const from = gh.received.length;
    await assert.rejects(
      githubPullRequest.handler(
        makeContext(input({ targetBranchName: 'release' }), { workspace: workspace(), env: env() }),
      ),
      /GET http:\/\/127\.0\.0\.1:\d+\/api\/v3\/repos\/acme\/estate\/git\/ref\/heads\/release: HTTP 404/,
    );
    assert.ok(!gh.received.slice(from).some((r) => r.method === 'POST'));
  });

  it('hostile inputs are refused before anything is sent', async () => {
    const from = gh.received.length;
    for (const [extra, re] of [
      [{ targetPath: '../../etc' }, /targetPath: "\.\.\/\.\.\/etc" leaves its directory/],
      [{ targetPath: '/abs' }, /targetPath: "\/abs" is an absolute path/],
      [{ branchName: 'refs/../x' }, /branchName: "refs\/\.\.\/x" is not a valid branch name/],
      [{ branchName: '' }, /branchName: "" is not a valid branch name/],
      [{ title: '' }, /title: is required/],
      [{ reviewers: ['a b'] }, /reviewers: must be a list of GitHub logins/],
    ] as const) {
      await assert.rejects(
        githubPullRequest.handler(makeContext(input(extra), { workspace: workspace(), env: env() })),
        re,
      );
    }
    assert.equal(gh.received.length, from);
  });

  it('a failure later in the task closes the pull request and deletes the branch', async () => {
    const tx = new Transaction();
    await githubPullRequest.handler(
      makeContext(input({ branchName: 'to-undo' }), { workspace: workspace(), env: env(), tx }),
    );
    const from = gh.received.length;
    assert.deepEqual(await tx.rollback(() => undefined), []);
    assert.deepEqual(
      gh.received.slice(from).map((r) => `${r.method} ${r.path.replace(/\d+$/, 'N')}`),
      ['PATCH /api/v3/repos/acme/estate/pulls/N', 'DELETE /api/v3/repos/acme/estate/git/refs/heads/to-undo'],
    );
  });
});
