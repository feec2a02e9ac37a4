/**
 * Task history across a crash of the real `portal serve` (a child process on 127.0.0.1, a real SQLite
 * file, a real git repository): a task that finished is read back after the restart with its steps, log
 * and result; a task that was running when the process was killed (-9) is failed with the reason; the
 * audit log's chain still verifies.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RESTARTED_REASON } from '../tasks.ts';
import { type FixtureRepo, makeFixtureRepo } from '../testing.ts';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../portal/bin/portal.mjs');
const TOKEN = 'restart-test-token';
const auth = { authorization: `Bearer ${TOKEN}` };

describe('scaffolder tasks survive a portal restart (portal serve, kill -9)', () => {
  let repo: FixtureRepo;
  let db = '';
  const children: ChildProcess[] = [];

  before(() => {
    repo = makeFixtureRepo({ git: true });
    db = `file:${path.join(repo.root, '.portal.db')}`;
  });
  after(() => {
    for (const c of children) c.kill('SIGKILL');
    repo?.cleanup();
  });

  const serve = () => {
    const child = spawn(process.execPath, [BIN, '--db', db, 'serve', '--port', '0', '--no-watch'], {
      cwd: repo.root,
      // Without NODE_TEST_CONTEXT: a child that inherits it reports to the test runner instead of printing.
      env: {
        ...process.env,
        NODE_TEST_CONTEXT: undefined,
        PORTAL_CATALOG_ROOT: path.join(repo.root, 'services'),
        PORTAL_REPO_ROOT: repo.root,
        PORTAL_API_TOKENS: TOKEN,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    return new Promise<{ child: ChildProcess; url: string }>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/[^\s]+)/.exec(out);
        if (m) resolve({ child, url: m[1] });
      });
      child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
    });
  };

  const create = (url: string, name: string) =>
    fetch(`${url}/api/scaffolder/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({
        template: 'event-consumer',
        values: { name, description: 'Restart test', owner: 'ledger', topic: 'ledger-entries' },
      }),
    });

  it('keeps finished tasks and fails the one the crash interrupted, with the reason', async () => {
    const first = await serve();
    const done = await create(first.url, 'restart-done');
    assert.equal(done.status, 201);
    const { id: doneId } = (await done.json()) as { id: string };
    // Followed to its end over server-sent events.
    const stream = await fetch(`${first.url}/api/scaffolder/tasks/${doneId}/events`, {
      headers: { accept: 'text/event-stream', ...auth },
    });
    const text = await stream.text();
    assert.match(text, /event: completion\ndata: \{"type":"completion","status":"completed"/);
    const before = (await (
      await fetch(`${first.url}/api/scaffolder/tasks/${doneId}/events`, { headers: auth })
    ).json()) as { events: { id: number; type: string }[] };

    // The second task: killed as soon as its first event is out, while it runs.
    const running = await create(first.url, 'restart-cut');
    assert.equal(running.status, 201);
    const { id: cutId } = (await running.json()) as { id: string };
    const live = await fetch(`${first.url}/api/scaffolder/tasks/${cutId}/events`, {
      headers: { accept: 'text/event-stream', ...auth },
    });
    const reader = live.body?.getReader();
    assert.ok(reader);
    const { value } = await reader.read();
    assert.match(Buffer.from(value ?? new Uint8Array()).toString(), /event: step/);
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    await reader.cancel().catch(() => undefined);

    const second = await serve();
    const get = async (id: string) =>
      (await (await fetch(`${second.url}/api/scaffolder/tasks/${id}`, { headers: auth })).json()) as {
        status: string;
        createdBy: string;
        parameters: Record<string, unknown>;
        steps: { id: string; status: string }[];
        result?: { entityRef: string };
        error?: { message: string };
      };
    const kept = await get(doneId);
    assert.equal(kept.status, 'completed');
    assert.equal(kept.result?.entityRef, 'component:default/restart-done');
    assert.equal(kept.createdBy, 'token:env-1');
    assert.equal(kept.parameters.name, 'restart-done');
    assert.ok(kept.steps.length > 0 && kept.steps.every((s) => s.status === 'completed'));
    const after = (await (
      await fetch(`${second.url}/api/scaffolder/tasks/${doneId}/events`, { headers: auth })
    ).json()) as { events: { id: number; type: string }[] };
    assert.deepEqual(after.events, before.events, 'every event of the finished task, as it was');

    const cut = await get(cutId);
    assert.equal(cut.status, 'failed');
    assert.equal(cut.error?.message, RESTARTED_REASON);
    const events = (await (
      await fetch(`${second.url}/api/scaffolder/tasks/${cutId}/events`, { headers: auth })
    ).json()) as { events: { type: string; message?: string }[] };
    assert.ok(events.events.length >= 2, 'what it did before the crash is kept');
    assert.deepEqual(events.events.at(-1), {
      ...events.events.at(-1),
      type: 'completion',
      status: 'failed',
      message: RESTARTED_REASON,
    });
    // Following it now ends at once, with that completion.
    const replay = await (
      await fetch(`${second.url}/api/scaffolder/tasks/${cutId}/events`, {
        headers: { accept: 'text/event-stream', ...auth },
      })
    ).text();
    assert.match(replay, /portal restarted while this task ran/);

    const list = (await (await fetch(`${second.url}/api/scaffolder/tasks`, { headers: auth })).json()) as {
      items: { id: string }[];
    };
    assert.deepEqual(
      list.items.map((t) => t.id),
      [cutId, doneId],
    );
    // The audit log recorded both attempts, and its chain is whole.
    const audit = (await (await fetch(`${second.url}/api/audit?limit=50`, { headers: auth })).json()) as {
      items: { action: string; details: string | null }[];
    };
    const creates = audit.items.filter((a) => a.action === 'scaffolder.task.create');
    assert.equal(creates.length, 2);
    assert.ok(creates.some((a) => a.details?.includes(cutId)));
    const verdict = (await (await fetch(`${second.url}/api/audit/verify`, { headers: auth })).json()) as {
      ok: boolean;
    };
    assert.equal(verdict.ok, true);
  });
});
