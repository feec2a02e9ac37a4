/**
 * Backstage's task secrets, cancel and retry on /api/scaffolder/v2, driven by Backstage's own client
 * (`ScaffolderClient` of @backstage/plugin-scaffolder-common 2.3.0: scaffold with `secrets`, cancelTask,
 * retry, dryRun with `secrets`) against the real portal server (real SQLite). A step that reads a URL
 * skeleton from a local HTTP server held open keeps a task running while it is cancelled.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type LogEvent, ScaffolderClient } from '@backstage/plugin-scaffolder-common';
import { CatalogStore, UrlReader } from '@bank/catalog';
import { writeTree } from '@bank/catalog/testing';
import { CatalogService } from '@bank/plugin-catalog';
import { type FixtureRepo, makeFixtureRepo } from '@bank/plugin-scaffolder/testing';
import { type RunningServer, startServer } from './server.ts';

const TOKEN = 'backstage-tasks-token';
/** A second machine token that may scaffold, but did not start the tasks below. */
const OTHER_MACHINE = 'tok-other-3d81';
const SECRET = 'tok-5f1c9e2a7b';
const ex = (inner: string) => `\${{ ${inner} }}`;

/** A catalogue Template: a log line, a URL skeleton read from `url`, then a line with the task's secret. */
const template = (name: string, url: string) => ({
  apiVersion: 'scaffolder.backstage.io/v1beta3',
  kind: 'Template',
  metadata: { name },
  spec: {
    owner: 'group:default/ledger',
    type: 'documentation',
    parameters: [{ required: ['name'], properties: { name: { type: 'string' } } }],
    steps: [
      {
        id: 'start',
        name: 'Start',
        action: 'debug:log',
        input: { message: `notes for ${ex('parameters.name')}` },
      },
      { id: 'fetch', name: 'Fetch notes', action: 'fetch:plain', input: { url, targetPath: 'docs' } },
      {
        id: 'render',
        name: 'Render with the token',
        action: 'fetch:template',
        input: { url: './skeleton', values: { token: ex('secrets.NOTE_TOKEN') } },
      },
      {
        id: 'tell',
        name: 'Tell',
        action: 'debug:log',
        input: { message: `token is ${ex('secrets.NOTE_TOKEN')}` },
      },
    ],
  },
});

/** A 409 from the client (its ResponseError keeps the server's message in body.error). */
const conflict =
  (message: RegExp) => (err: { statusCode?: number; body?: { error?: { message?: string } } }) => {
    assert.equal(err.statusCode, 409);
    assert.match(err.body?.error?.message ?? '', message);
    return true;
  };

const g = globalThis as Record<string, unknown>;
g.window ??= globalThis;
g.document ??= { hidden: false, addEventListener() {}, removeEventListener() {} };

describe("Backstage's task secrets, cancel and retry through ScaffolderClient", () => {
  let repo: FixtureRepo;
  let store: CatalogStore;
  let server: RunningServer;
  let notes: http.Server;
  /** Held requests for /slow/NOTES.md (answered when released); /fast/NOTES.md answers at once. */
  const held: http.ServerResponse[] = [];
  let heldNow: (() => void) | undefined;
  const saved = { tokens: process.env.PORTAL_API_TOKENS, policy: process.env.PORTAL_BANK_POLICY };

  const client = new Proxy({} as ScaffolderClient, {
    get: (_t, prop) => {
      const c = new ScaffolderClient({
        discoveryApi: { getBaseUrl: async () => `${server.url}/api/scaffolder` },
        fetchApi: {
          fetch: (input: RequestInfo | URL, init?: RequestInit) => {
            const headers = new Headers(init?.headers);
            headers.set('authorization', `Bearer ${TOKEN}`);
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
      });
      const v = (c as unknown as Record<string | symbol, unknown>)[prop];
      return typeof v === 'function' ? v.bind(c) : v;
    },
  });

  /** Every event of a task after `after`, up to its completion. */
  const follow = (taskId: string, after?: number) =>
    new Promise<LogEvent[]>((resolve, reject) => {
      const seen: LogEvent[] = [];
      client.streamLogs({ taskId, after }).subscribe({
        next: (e) => seen.push(e),
        error: reject,
        complete: () => resolve(seen),
      });
    });

  before(async () => {
    process.env.PORTAL_API_TOKENS = `${TOKEN},${OTHER_MACHINE}@scaffolder:create`;
    process.env.PORTAL_BANK_POLICY = 'none';
    notes = http.createServer((req, res) => {
      if (req.url === '/slow/NOTES.md') {
        held.push(res);
        heldNow?.();
        return;
      }
      res.end('# notes\n');
    });
    await new Promise<void>((r) => notes.listen(0, '127.0.0.1', r));
    const host = `127.0.0.1:${(notes.address() as AddressInfo).port}`;
    repo = makeFixtureRepo({ git: true });
    writeTree(
      {
        'services/doc-templates/slow/catalog-info.yaml': JSON.stringify(
          template('slow-notes', `http://${host}/slow/NOTES.md`),
        ),
        'services/doc-templates/slow/skeleton/TOKEN.txt': `token=${ex('values.token')}\n`,
        'services/doc-templates/fast/catalog-info.yaml': JSON.stringify(
          template('fast-notes', `http://${host}/fast/NOTES.md`),
        ),
        'services/doc-templates/fast/skeleton/TOKEN.txt': `token=${ex('values.token')}\n`,
      },
      repo.root,
    );
    store = await CatalogStore.open(`file:${path.join(repo.root, '.portal.db')}`);
    const catalog = new CatalogService(store, [path.join(repo.root, 'services')], {
      reader: new UrlReader({ allow: [host], allowAddresses: ['127.0.0.1'] }),
    });
    await catalog.ingest();
    server = await startServer({ catalog, host: '127.0.0.1', port: 0, ui: false });
  });

  after(async () => {
    for (const res of held) res.end('# late\n');
    await new Promise((r) => notes?.close(r));
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

  it('secrets reach the steps that name them, and are never stored, shown or logged', async () => {
    const { taskId } = await client.scaffold({
      templateRef: 'template:default/fast-notes',
      values: { name: 'ledger' },
      secrets: { NOTE_TOKEN: SECRET },
    });
    const events = await follow(taskId);
    const completion = events.at(-1);
    assert.equal(completion?.type, 'completion');
    assert.equal(completion?.body.message, 'Run completed with status: completed');
    const logs = events.map((e) => e.body.message);
    assert.ok(logs.includes('token is ***'), logs.join('\n'));
    const task = await client.getTask(taskId);
    assert.equal(task.status, 'completed');
    for (const what of [JSON.stringify(task), JSON.stringify(events)])
      assert.ok(!what.includes(SECRET), 'the secret is nowhere in the task or its events');
    const stored = await store.driver.query<{ body: string; parameters?: string }>(
      'SELECT e."body", t."parameters" FROM "ScaffolderTaskEvent" e JOIN "ScaffolderTask" t ON t."id" = e."taskId"',
    );
    assert.ok(!JSON.stringify(stored).includes(SECRET));

    // A dry-run (the template editor's) renders it into the files it shows, and keeps it out of its log.
    const t = template('dry-notes', 'unused');
    const steps = t.spec.steps.filter((step) => step.id !== 'fetch');
    const dry = await client.dryRun({
      template: { ...t, spec: { ...t.spec, steps } } as never,
      values: { name: 'ledger' },
      secrets: { NOTE_TOKEN: SECRET },
      directoryContents: [
        {
          path: 'skeleton/TOKEN.txt',
          base64Content: Buffer.from(`token=${ex('values.token')}\n`).toString('base64'),
        },
      ],
    });
    const file = dry.directoryContents.find((f) => f.path === 'TOKEN.txt');
    assert.equal(Buffer.from(file?.base64Content ?? '', 'base64').toString(), `token=${SECRET}\n`);
    const dryLog = dry.log.map((l) => l.body.message);
    assert.ok(dryLog.includes('token is ***'), dryLog.join('\n'));
  });

  it('a bad secrets mapping is refused with what is wrong', async () => {
    await assert.rejects(
      client.scaffold({
        templateRef: 'template:default/fast-notes',
        values: { name: 'ledger' },
        secrets: { 'not a name': 'x' },
      }),
      /400 Bad Request.*secrets: .*not a name.* is not a secret name \(letters, digits and _\)/,
    );
  });

  it('cancel stops a running task before its next step; retry runs it again under the same id', async () => {
    const requested = new Promise<void>((r) => {
      heldNow = r;
    });
    const { taskId } = await client.scaffold({
      templateRef: 'template:default/slow-notes',
      values: { name: 'cards' },
      secrets: { NOTE_TOKEN: SECRET },
    });
    await requested; // the fetch step is waiting for the notes server
    // Another machine that may scaffold may not stop a task it did not start (scaffolder.task.cancel).
    const refused = await fetch(`${server.url}/api/scaffolder/v2/tasks/${taskId}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OTHER_MACHINE}` },
    });
    assert.equal(refused.status, 403);
    assert.match(
      ((await refused.json()) as { error: { message: string } }).error.message,
      /Permission "scaffolder.task.cancel" denied: token:env-2 may cancel only the tasks it started/,
    );
    assert.equal((await client.getTask(taskId)).status, 'processing');
    assert.deepEqual(await client.cancelTask(taskId), { status: 'cancelled' });
    assert.equal((await client.getTask(taskId)).status, 'cancelled');
    held.shift()?.end('# notes\n'); // the step in flight finishes; no further step starts
    const first = await follow(taskId);
    const messages = first.map((e) => e.body.message);
    assert.equal(first.at(-1)?.body.message, 'Run completed with status: cancelled', messages.join('\n'));
    assert.ok(messages.includes('Beginning step Fetch notes'));
    assert.ok(!messages.includes('Beginning step Render with the token'), messages.join('\n'));
    assert.equal((await client.getTask(taskId)).status, 'cancelled');

    // Cancelling again: it is not running.
    await assert.rejects(
      client.cancelTask(taskId),
      conflict(/is cancelled: only a processing task can be cancelled/),
    );

    // Retry: the same id, the new run's events after the old ones, this time to the end.
    const retried = new Promise<void>((r) => {
      heldNow = () => {
        held.shift()?.end('# notes\n');
        r();
      };
    });
    const answer = await client.retry?.(taskId);
    assert.deepEqual(answer, { id: taskId });
    await retried;
    const second = await follow(taskId, Number(first.at(-1)?.id));
    assert.equal(second.at(-1)?.body.message, 'Run completed with status: completed');
    const again = second.map((e) => e.body.message);
    assert.ok(again.includes('Beginning step Render with the token'), again.join('\n'));
    // The client's retry sends no secrets (Backstage's too): the step sees none this time.
    assert.ok(again.includes('token is '), again.join('\n'));
    const done = await client.getTask(taskId);
    assert.equal(done.status, 'completed');
    await assert.rejects(
      client.retry?.(taskId) ?? Promise.resolve(),
      conflict(/is completed: only a failed or cancelled task can be retried/),
    );
  });
});
