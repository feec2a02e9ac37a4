/**
 * Backstage's scaffolder API (/api/scaffolder/v2) driven by Backstage's own client, `ScaffolderClient` of
 * @backstage/plugin-scaffolder-common 2.3.0, unchanged, against the real portal server on 127.0.0.1 (real
 * SQLite, real git): parameter schemas, actions, a task from templates/ followed over server-sent events,
 * a task from a Template entity of the catalogue followed by long polling, the task list, dry-run with
 * the editor's directoryContents, and refusals without credentials.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type LogEvent, ScaffolderClient } from '@backstage/plugin-scaffolder-common';
import { CatalogStore } from '@bank/catalog';
import { writeTree } from '@bank/catalog/testing';
import { CatalogService } from '@bank/plugin-catalog';
import { type FixtureRepo, makeFixtureRepo } from '@bank/plugin-scaffolder/testing';
import { type RunningServer, startServer } from './server.ts';

const TOKEN = 'backstage-client-token';
/** `${{ … }}`, Backstage's expression syntax, written without a JS template string. */
const ex = (inner: string) => `\${{ ${inner} }}`;

/** A Template entity registered in the catalogue (not under templates/), with its skeleton beside it. */
const CATALOGUE_TEMPLATE = {
  apiVersion: 'scaffolder.backstage.io/v1beta3',
  kind: 'Template',
  metadata: { name: 'hello-catalogue', title: 'Hello from the catalogue', description: 'A note' },
  spec: {
    owner: 'group:default/ledger',
    type: 'documentation',
    parameters: [
      {
        title: 'About',
        required: ['name', 'owner'],
        properties: {
          name: { type: 'string', title: 'Name' },
          owner: { type: 'string', title: 'Owner', 'ui:field': 'OwnerPicker' },
        },
      },
    ],
    steps: [
      {
        id: 'fetch',
        name: 'Fetch skeleton',
        action: 'fetch:template',
        input: { url: './skeleton', values: { name: ex('parameters.name') } },
      },
      { id: 'say', name: 'Say', action: 'debug:log', input: { message: `made ${ex('parameters.name')}` } },
    ],
    output: { text: [{ title: 'Done', content: `Made ${ex('parameters.name')}` }] },
  },
};

// @microsoft/fetch-event-source (the client's SSE reader) is browser code: it touches `window` and
// `document` for tab visibility. A minimal stand-in for those two browser globals, nothing else.
const g = globalThis as Record<string, unknown>;
g.window ??= globalThis;
g.document ??= { hidden: false, addEventListener() {}, removeEventListener() {} };

describe("Backstage's ScaffolderClient against /api/scaffolder/v2 on the real portal server", () => {
  let repo: FixtureRepo;
  let store: CatalogStore;
  let server: RunningServer;
  const saved = { tokens: process.env.PORTAL_API_TOKENS, policy: process.env.PORTAL_BANK_POLICY };

  const client = (opts: { token?: string; polling?: boolean } = {}) =>
    new ScaffolderClient({
      discoveryApi: { getBaseUrl: async () => `${server.url}/api/scaffolder` },
      fetchApi: {
        fetch: (input: RequestInfo | URL, init?: RequestInit) => {
          const headers = new Headers(init?.headers);
          if (opts.token) headers.set('authorization', `Bearer ${opts.token}`);
          return fetch(input, { ...init, headers });
        },
      },
      identityApi: {
        getBackstageIdentity: async () => ({
          type: 'user' as const,
          userEntityRef: 'token:env-1',
          ownershipEntityRefs: [],
        }),
      },
      scmIntegrationsApi: {} as never,
      useLongPollingLogs: opts.polling,
    });

  const follow = (c: ScaffolderClient, taskId: string) =>
    new Promise<LogEvent[]>((resolve, reject) => {
      const seen: LogEvent[] = [];
      c.streamLogs({ taskId }).subscribe({
        next: (e) => seen.push(e),
        error: reject,
        complete: () => resolve(seen),
      });
    });

  before(async () => {
    process.env.PORTAL_API_TOKENS = TOKEN;
    process.env.PORTAL_BANK_POLICY = 'none';
    repo = makeFixtureRepo({ git: true });
    writeTree(
      {
        'services/doc-templates/hello/catalog-info.yaml': JSON.stringify(CATALOGUE_TEMPLATE, null, 2),
        'services/doc-templates/hello/skeleton/README.md': `# ${ex('values.name')}\n`,
      },
      repo.root,
    );
    store = await CatalogStore.open(`file:${path.join(repo.root, '.portal.db')}`);
    const catalog = new CatalogService(store, [path.join(repo.root, 'services')]);
    await catalog.ingest();
    assert.ok(
      catalog.loaded.byRef.get('template:default/hello-catalogue'),
      'the Template is in the catalogue',
    );
    server = await startServer({ catalog, host: '127.0.0.1', port: 0, ui: false });
  });

  after(async () => {
    await server?.close();
    await store?.close();
    repo?.cleanup();
    for (const [k, v] of [
      ['PORTAL_API_TOKENS', saved.tokens],
      ['PORTAL_BANK_POLICY', saved.policy],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('answers parameter schemas (templates/ and the catalogue) and actions', async () => {
    const c = client({ token: TOKEN });
    const ts = await c.getTemplateParameterSchema('template:default/typescript-service');
    assert.equal(ts.steps.length, 2);
    const owner = (ts.steps[0].schema.properties as Record<string, Record<string, unknown>>).owner;
    assert.equal(owner['ui:field'], 'OwnerPicker');
    const hello = await c.getTemplateParameterSchema('template:default/hello-catalogue');
    assert.equal(hello.title, 'Hello from the catalogue');
    assert.equal(hello.steps[0].title, 'About');
    await assert.rejects(c.getTemplateParameterSchema('template:default/no-such'), /404|no template/i);
    const actions = await c.listActions();
    assert.ok(actions.some((a) => a.id === 'fetch:template'));
    assert.ok(actions.some((a) => a.id === 'publish:monorepo'));
  });

  it('scaffolds from templates/ and follows the task over server-sent events to its completion', async () => {
    const c = client({ token: TOKEN });
    const { taskId } = await c.scaffold({
      templateRef: 'template:default/event-consumer',
      values: {
        name: 'bs-events',
        description: 'Made by Backstage',
        owner: 'ledger',
        topic: 'ledger-entries',
      },
    });
    const events = await follow(c, taskId);
    assert.ok(events.some((e) => e.type === 'log' && /^Beginning step/.test(String(e.body.message))));
    assert.ok(events.some((e) => e.body.stepId === 'publish' && e.body.status === 'completed'));
    const end = events.at(-1);
    assert.equal(end?.type, 'completion');
    assert.equal(end?.body.message, 'Run completed with status: completed');
    assert.ok(events.every((e) => e.taskId === taskId));
    const task = await c.getTask(taskId);
    assert.equal(task.status, 'completed');
    assert.equal((task as { createdBy?: string }).createdBy, 'token:env-1');
    assert.equal(task.spec.templateInfo?.entityRef, 'template:default/event-consumer');
    assert.ok(task.spec.steps.some((s) => s.action === 'publish:monorepo'));
    const created = await fetch(`${server.url}/api/catalog/entities/by-name/component/default/bs-events`);
    assert.equal(created.status, 200, 'the new service is in the catalogue');
  });

  it('scaffolds from a Template entity of the catalogue, followed by long polling; lists tasks', async () => {
    const c = client({ token: TOKEN, polling: true });
    const { taskId } = await c.scaffold({
      templateRef: 'template:default/hello-catalogue',
      values: { name: 'greeting', owner: 'ledger' },
    });
    const events = await follow(c, taskId);
    assert.ok(events.some((e) => e.body.message === 'made greeting'));
    assert.equal(events.at(-1)?.type, 'completion');
    assert.deepEqual((events.at(-1)?.body as Record<string, unknown> | undefined)?.output, {
      links: [],
      text: [{ title: 'Done', content: 'Made greeting' }],
    });
    const { tasks, totalTasks } = await c.listTasks({ filterByOwnership: 'owned' });
    assert.ok(tasks.some((t) => t.id === taskId && t.status === 'completed'));
    assert.equal(totalTasks, tasks.length);
    const all = await c.listTasks({ filterByOwnership: 'all', limit: 1 });
    assert.equal(all.tasks.length, 1);
    assert.ok((all.totalTasks ?? 0) >= 2);
  });

  it('dry-runs a template sent whole with its files, writing nothing', async () => {
    const c = client({ token: TOKEN });
    const result = await c.dryRun({
      template: CATALOGUE_TEMPLATE as never,
      values: { name: 'dry', owner: 'ledger' },
      directoryContents: [
        {
          path: 'skeleton/README.md',
          base64Content: Buffer.from(`# ${ex('values.name')}!\n`).toString('base64'),
        },
      ],
    });
    const readme = result.directoryContents.find((f) => f.path === 'README.md');
    assert.equal(Buffer.from(readme?.base64Content ?? '', 'base64').toString(), '# dry!\n');
    assert.ok(result.log.some((l) => l.body.message === 'made dry'));
    assert.deepEqual(
      result.steps.map((s) => s.id),
      ['fetch', 'say'],
    );
  });

  it('refuses without credentials, and a path that leaves the dry-run folder', async () => {
    const anonymous = client();
    await assert.rejects(
      anonymous.scaffold({
        templateRef: 'template:default/hello-catalogue',
        values: { name: 'x', owner: 'ledger' },
      }),
      /401/,
    );
    await assert.rejects(
      anonymous.listTasks({ filterByOwnership: 'all' }),
      // Our error envelope is Backstage's: the client hands the server's error on as the cause.
      (err: Error & { cause?: Error }) =>
        /401/.test(err.message) &&
        /Permission "scaffolder.task.read" needs an authenticated caller/.test(err.cause?.message ?? ''),
    );
    await assert.rejects(
      client({ token: TOKEN }).dryRun({
        template: CATALOGUE_TEMPLATE as never,
        values: { name: 'dry', owner: 'ledger' },
        directoryContents: [{ path: '../../escape.txt', base64Content: 'eA==' }],
      }),
      (err: Error & { cause?: Error }) =>
        /400/.test(err.message) && /leaves its directory/.test(err.cause?.message ?? ''),
    );
  });
});
