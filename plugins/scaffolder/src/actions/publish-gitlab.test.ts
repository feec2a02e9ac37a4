/**
 * publish:gitlab against a TEST DOUBLE of GitLab's REST API v4 (actions/testing.ts: a local HTTP server
 * with GitLab's recorded answers) and a real `git http-backend` receiving the push.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Workspace } from '../workspace.ts';
import { publishGitlab } from './publish-gitlab.ts';
import { DOUBLE_TOKEN, makeContext, type ProviderDouble, startProviderDouble } from './testing.ts';

function workspace(): Workspace {
  const ws = new Workspace();
  ws.write('catalog-info.yaml', 'kind: Component\n');
  ws.write('app/main.py', 'print("hi")\n');
  return ws;
}

describe('publish:gitlab', () => {
  let gl: ProviderDouble;
  before(async () => {
    gl = await startProviderDouble();
  });
  after(() => gl.close());
  const env = () => ({ integrations: [gl.integration('gitlab')] });

  it('dry-run sends nothing and shows the requests it would send, without the token', async () => {
    const from = gl.received.length;
    const ctx = makeContext(
      {
        repoUrl: `${gl.host}?owner=payments/squad&repo=fx-rates`,
        repoVisibility: 'internal',
        description: 'FX',
      },
      { dryRun: true, workspace: workspace(), env: env() },
    );
    await publishGitlab.handler(ctx);
    assert.equal(gl.received.length, from);
    const requests = ctx.outputs.requests as {
      method: string;
      url: string;
      body?: Record<string, unknown>;
    }[];
    assert.deepEqual(
      requests.map((r) => `${r.method} ${r.url.replace(gl.url, '')}`),
      [
        'GET /api/v4/namespaces/payments%2Fsquad',
        'POST /api/v4/projects',
        `git push https://${gl.host}/payments/squad/fx-rates.git`,
      ],
    );
    assert.deepEqual(requests[1]?.body, {
      name: 'fx-rates',
      path: 'fx-rates',
      namespace_id: '<id of payments/squad>',
      visibility: 'internal',
      description: 'FX',
      default_branch: 'master',
    });
    assert.ok(!JSON.stringify({ requests, logs: ctx.logs }).includes(DOUBLE_TOKEN));
  });

  it('creates the project in the namespace and pushes the workspace', async () => {
    const from = gl.received.length;
    const ctx = makeContext(
      { repoUrl: `${gl.host}?owner=payments/squad&repo=fx-rates`, defaultBranch: 'main', topics: ['fx'] },
      { workspace: workspace(), env: env() },
    );
    await publishGitlab.handler(ctx);
    const sent = gl.received.slice(from);
    assert.deepEqual(
      sent.map((r) => `${r.method} ${r.path}`),
      ['GET /api/v4/namespaces/payments%2Fsquad', 'POST /api/v4/projects'],
    );
    assert.ok(sent.every((r) => r.headers['private-token'] === DOUBLE_TOKEN && !r.headers.authorization));
    assert.equal(((sent[1]?.body ?? {}) as { namespace_id: number }).namespace_id, 42);
    assert.deepEqual(((sent[1]?.body ?? {}) as { topics: string[] }).topics, ['fx']);
    assert.equal(gl.git('group-42/fx-rates', 'show', 'main:app/main.py'), 'print("hi")\n');
    assert.equal(ctx.outputs.commitHash, gl.git('group-42/fx-rates', 'rev-parse', 'main').trim());
    assert.equal(ctx.outputs.remoteUrl, `${gl.url}/group-42/fx-rates`);
    assert.equal(ctx.outputs.repoContentsUrl, `${gl.url}/group-42/fx-rates/-/blob/main`);
    assert.equal(ctx.outputs.projectId, 3);
    // GitLab's push credentials are oauth2:<token>.
    assert.ok(
      gl.gitRequests.some(
        (g) => g.authorization === `Basic ${Buffer.from(`oauth2:${DOUBLE_TOKEN}`).toString('base64')}`,
      ),
    );
  });

  it('a namespace that does not exist is named; nothing is created', async () => {
    const from = gl.received.length;
    await assert.rejects(
      publishGitlab.handler(
        makeContext({ repoUrl: `${gl.host}?owner=nobody&repo=x` }, { workspace: workspace(), env: env() }),
      ),
      /namespace "nobody" does not exist on 127\.0\.0\.1:\d+/,
    );
    assert.ok(!gl.received.slice(from).some((r) => r.method === 'POST'));
  });

  it('without a token a real run is refused before any request; a GitHub host is not a GitLab one', async () => {
    const from = gl.received.length;
    const noToken = { ...gl.integration('gitlab'), token: undefined };
    await assert.rejects(
      publishGitlab.handler(
        makeContext(
          { repoUrl: `${gl.host}?owner=g&repo=x` },
          { workspace: workspace(), env: { integrations: [noToken] } },
        ),
      ),
      /no token for 127\.0\.0\.1:\d+/,
    );
    await assert.rejects(
      publishGitlab.handler(
        makeContext(
          { repoUrl: `${gl.host}?owner=g&repo=x` },
          { workspace: workspace(), env: { integrations: [gl.integration('github')] } },
        ),
      ),
      /is not a configured gitlab integration \(none; set GITLAB_TOKEN or PORTAL_INTEGRATIONS_FILE\)/,
    );
    assert.equal(gl.received.length, from);
  });

  it('an empty sourcePath is refused naming it', async () => {
    await assert.rejects(
      publishGitlab.handler(
        makeContext(
          { repoUrl: `${gl.host}?owner=g&repo=x`, sourcePath: 'nothing-here' },
          { workspace: workspace(), env: env() },
        ),
      ),
      /sourcePath: the workspace has no files under \.\/nothing-here/,
    );
  });
});
