/**
 * The scaffolder's task history in the store, on a real SQLite file and the real PostgreSQL of `npm test`:
 * tasks, their events and outcomes survive a restart; a task left processing by a process that is gone is
 * failed with the reason; log lines are bounded per task; secrets never reach the store. A property test
 * (fast-check) runs random tasks, events and restarts and checks that nothing accepted is lost.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { after, describe, it } from 'node:test';
import { CatalogStore } from '@bank/catalog';
import { testDatabases } from '@bank/catalog/testing';
import fc from 'fast-check';
import {
  REDACTED,
  RESTARTED_REASON,
  redactParameters,
  ScaffolderTaskStore,
  type StoredTaskEvent,
} from './tasks.ts';
import type { TaskEvent } from './types.ts';

const at = () => new Date().toISOString();
const jane = { id: 'user:default/jane.doe', kind: 'user' };
const ci = { id: 'token:ci', kind: 'token' };

/** A pid no process has any more: a child that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(child.stdout);
}

for (const db of testDatabases()) {
  describe(`scaffolder task store (${db.name})`, { skip: db.skip }, () => {
    const open: CatalogStore[] = [];
    const openStore = async (url: string) => {
      const s = await CatalogStore.open(url);
      open.push(s);
      return s;
    };
    after(async () => {
      for (const s of open) await s.close().catch(() => undefined);
    });

    it('keeps tasks, events and outcomes across a restart; lists by creator and status', async () => {
      const url = await db.create();
      const first = await openStore(url);
      const tasks = new ScaffolderTaskStore(first.driver);
      const a = await tasks.create({
        template: 'template:default/typescript-service',
        version: '1.2.0',
        actor: jane,
        parameters: { name: 'ledger-sync', owner: 'ledger' },
      });
      await tasks.append(a.id, {
        type: 'step',
        stepId: 'fetch',
        name: 'Fetch',
        status: 'processing',
        at: at(),
      });
      await tasks.append(a.id, { type: 'log', stepId: 'fetch', message: 'rendered 12 files', at: at() });
      await tasks.append(a.id, {
        type: 'step',
        stepId: 'fetch',
        name: 'Fetch',
        status: 'completed',
        at: at(),
      });
      await tasks.finish(a.id, {
        status: 'completed',
        result: {
          dir: 'services/ledger-sync',
          entityRef: 'component:default/ledger-sync',
          files: ['catalog-info.yaml'],
          output: { links: [{ title: 'Open', entityRef: 'component:default/ledger-sync' }], text: [] },
          durationMs: 12,
        },
      });
      const b = await tasks.create({
        template: 'template:default/event-consumer',
        actor: ci,
        parameters: { name: 'x' },
      });
      await tasks.finish(b.id, { status: 'failed', error: { message: 'step "fetch" failed', status: 400 } });
      await tasks.close();
      await first.close();

      const second = await openStore(url);
      const again = await ScaffolderTaskStore.open(second.driver, { sweep: false });
      const stored = await again.get(a.id);
      assert.equal(stored?.status, 'completed');
      assert.equal(stored?.createdBy, 'user:default/jane.doe');
      assert.equal(stored?.template, 'template:default/typescript-service');
      assert.equal(stored?.version, '1.2.0');
      assert.deepEqual(stored?.parameters, { name: 'ledger-sync', owner: 'ledger' });
      assert.equal(stored?.result?.entityRef, 'component:default/ledger-sync');
      assert.ok(stored?.completedAt && stored.completedAt >= stored.createdAt);
      const events = await again.events(a.id);
      assert.deepEqual(
        events.map((e) => [e.id, e.type]),
        [
          [0, 'step'],
          [1, 'log'],
          [2, 'step'],
          [3, 'completion'],
        ],
      );
      assert.deepEqual(
        (await again.events(a.id, 1)).map((e) => e.id),
        [2, 3],
      );
      assert.equal((await again.get(b.id))?.error?.message, 'step "fetch" failed');

      const all = await again.list();
      assert.deepEqual(
        all.items.map((t) => t.id),
        [b.id, a.id],
        'newest first',
      );
      assert.equal(all.total, 2);
      assert.deepEqual(
        (await again.list({ createdBy: 'user:default/jane.doe' })).items.map((t) => t.id),
        [a.id],
      );
      assert.deepEqual(
        (await again.list({ status: 'failed' })).items.map((t) => t.id),
        [b.id],
      );
      const page = await again.list({ limit: 1, offset: 1 });
      assert.deepEqual(
        page.items.map((t) => t.id),
        [a.id],
      );
      assert.equal(page.total, 2);
      await again.close();
    });

    it('a task left processing by a process that is gone is failed at start, with the reason', async () => {
      const url = await db.create();
      const first = await openStore(url);
      // The process that ran it: this host, a pid that has exited (a portal killed with -9).
      const crashed = new ScaffolderTaskStore(first.driver, { runner: `${hostname()}:${deadPid()}:old` });
      const task = await crashed.create({
        template: 'template:default/typescript-service',
        actor: jane,
        parameters: { name: 'half-made' },
      });
      await crashed.append(task.id, {
        type: 'step',
        stepId: 'publish',
        name: 'Publish',
        status: 'processing',
        at: at(),
      });
      await crashed.append(task.id, {
        type: 'log',
        stepId: 'publish',
        message: 'writing services/half-made',
        at: at(),
      });
      // Another replica's task, alive (another host, heartbeat now): left alone.
      const replica = new ScaffolderTaskStore(first.driver, { runner: 'portal-7f9c-2:1:abc' });
      const running = await replica.create({
        template: 'template:default/typescript-service',
        actor: jane,
        parameters: { name: 'elsewhere' },
      });
      await first.close();

      const second = await openStore(url);
      const restarted = await ScaffolderTaskStore.open(second.driver, { sweep: false });
      const failed = await restarted.get(task.id);
      assert.equal(failed?.status, 'failed');
      assert.equal(failed?.error?.message, RESTARTED_REASON);
      assert.ok(failed?.completedAt);
      const events = await restarted.events(task.id);
      assert.deepEqual(
        events.map((e) => e.type),
        ['step', 'log', 'completion'],
        'what it logged before the restart is kept, then the completion',
      );
      assert.deepEqual(events.at(-1), {
        ...events.at(-1),
        type: 'completion',
        status: 'failed',
        message: RESTARTED_REASON,
      });
      assert.equal((await restarted.get(running.id))?.status, 'processing', 'a live replica’s task');

      // The replica stops answering: once its heartbeat is stale, any replica fails its task.
      const later = new ScaffolderTaskStore(second.driver, { now: () => Date.now() + 120_000 });
      assert.deepEqual(await later.recoverInterrupted(), [running.id]);
      assert.equal((await later.get(running.id))?.error?.message, RESTARTED_REASON);
      assert.deepEqual(await later.recoverInterrupted(), [], 'once only');
      await restarted.close();
    });

    it('keeps at most maxLogLines log lines per task, counts the rest, and keeps every step', async () => {
      const url = await db.create();
      const s = await openStore(url);
      const tasks = new ScaffolderTaskStore(s.driver, { maxLogLines: 3 });
      const t = await tasks.create({ template: 'template:default/t', actor: jane, parameters: {} });
      const kept: (StoredTaskEvent | undefined)[] = [];
      for (let i = 0; i < 5; i++)
        kept.push(await tasks.append(t.id, { type: 'log', message: `line ${i}`, at: at() }));
      kept.push(
        await tasks.append(t.id, { type: 'step', stepId: 's', name: 'S', status: 'completed', at: at() }),
      );
      const long = await tasks.append(t.id, { type: 'log', message: 'x'.repeat(10_000), at: at() });
      assert.equal(long, undefined);
      await tasks.finish(t.id, {
        status: 'completed',
        result: { files: [], output: { links: [], text: [] }, durationMs: 1 },
      });
      assert.deepEqual(
        kept.map((e) => e?.id),
        [0, 1, 2, undefined, undefined, 3],
      );
      const events = await tasks.events(t.id);
      assert.deepEqual(
        events.map((e) => (e.type === 'log' ? e.message : e.type)),
        ['line 0', 'line 1', 'line 2', 'step', 'completion'],
      );
      assert.equal((await tasks.get(t.id))?.droppedLogLines, 3);
      // A very long line is kept, cut, saying how much was cut.
      const other = await tasks.create({ template: 'template:default/t', actor: jane, parameters: {} });
      await tasks.append(other.id, { type: 'log', message: 'y'.repeat(10_000), at: at() });
      const [line] = await tasks.events(other.id);
      assert.ok(
        line.type === 'log' && line.message.length < 4200 && /5904 more characters/.test(line.message),
      );
    });

    it('property: no accepted task or log line is lost across restarts', async () => {
      const url = await db.create();
      let store = await openStore(url);
      /** What the store accepted: per task, its events in order, and whether it finished. */
      const accepted = new Map<string, { events: TaskEvent[]; finished: boolean; max: number }>();
      const op = fc.oneof(
        fc.record({ kind: fc.constant('create' as const), maxLogs: fc.integer({ min: 1, max: 4 }) }),
        fc.record({ kind: fc.constant('log' as const), task: fc.nat(), text: fc.string({ maxLength: 40 }) }),
        fc.record({ kind: fc.constant('step' as const), task: fc.nat() }),
        fc.record({ kind: fc.constant('finish' as const), task: fc.nat(), ok: fc.boolean() }),
        fc.constant({ kind: 'restart' as const }),
      );
      const check = async (tasks: ScaffolderTaskStore) => {
        for (const [id, want] of accepted) {
          const task = await tasks.get(id);
          assert.ok(task, `task ${id} is stored`);
          const events = await tasks.events(id);
          const body = events.filter((e) => e.type !== 'completion');
          assert.deepEqual(
            body.map(({ id: _, ...e }) => e),
            want.events,
            `task ${id}: every accepted event, in order`,
          );
          assert.deepEqual(
            events.map((e) => e.id),
            events.map((_, i) => i),
            'numbered without gaps',
          );
          if (want.finished) assert.equal(events.filter((e) => e.type === 'completion').length, 1);
        }
      };
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 30 }), async (ops) => {
          let tasks = new ScaffolderTaskStore(store.driver);
          const mine: string[] = [];
          const live = new Map<string, ScaffolderTaskStore>();
          for (const o of ops) {
            if (o.kind === 'create') {
              // Each task is written by the store that created it (its process, with its log maximum).
              const owner = new ScaffolderTaskStore(store.driver, {
                maxLogLines: o.maxLogs,
                runner: tasks.runner,
              });
              const t = await owner.create({
                template: 'template:default/t',
                actor: jane,
                parameters: { n: mine.length },
              });
              live.set(t.id, owner);
              mine.push(t.id);
              accepted.set(t.id, { events: [], finished: false, max: o.maxLogs });
              continue;
            }
            if (o.kind === 'restart') {
              for (const t of live.values()) await t.close();
              await tasks.close();
              await store.close();
              store = await openStore(url);
              tasks = await ScaffolderTaskStore.open(store.driver, { sweep: false });
              for (const id of live.keys()) {
                const a = accepted.get(id);
                if (a) a.finished = true; // failed at start: "portal restarted while this task ran"
                assert.equal((await tasks.get(id))?.error?.message, RESTARTED_REASON);
              }
              live.clear();
              await check(tasks);
              continue;
            }
            if (mine.length === 0) continue;
            const id = mine[o.task % mine.length];
            const owner = live.get(id);
            const want = accepted.get(id);
            if (!owner || !want) continue; // finished: nobody writes to it any more
            if (o.kind === 'finish') {
              await owner.finish(
                id,
                o.ok
                  ? {
                      status: 'completed',
                      result: { files: [], output: { links: [], text: [] }, durationMs: 0 },
                    }
                  : { status: 'failed', error: { message: 'boom', status: 500 } },
              );
              want.finished = true;
              live.delete(id);
              continue;
            }
            const event: TaskEvent =
              o.kind === 'log'
                ? { type: 'log', message: o.text, at: at() }
                : { type: 'step', stepId: 's', name: 'S', status: 'completed', at: at() };
            const stored = await owner.append(id, event);
            if (stored) want.events.push(event);
            else
              assert.ok(
                event.type === 'log' && want.events.filter((e) => e.type === 'log').length >= want.max,
              );
          }
          for (const t of live.values()) await t.close();
          await tasks.close();
          await check(new ScaffolderTaskStore(store.driver));
        }),
        { numRuns: db.name === 'sqlite' ? 40 : 15 },
      );
    });
  });
}

describe('redactParameters', () => {
  it('replaces fields the template marks secret, and fields whose name says so, at any depth', () => {
    const pages = [
      {
        properties: {
          name: { type: 'string' },
          deployKey: { type: 'string', 'ui:field': 'Secret' },
          pin: { type: 'string', 'ui:widget': 'password' },
          note: { type: 'string', 'ui:backstage': { review: { mask: '***' } } },
        },
      },
    ];
    const out = redactParameters(
      {
        name: 'ledger-sync',
        deployKey: 'k',
        pin: '1234',
        note: 'n',
        githubToken: 'ghp_x',
        nested: { password: 'p', keep: 'v', list: [{ apiKey: 'a' }] },
      },
      pages as never,
    );
    assert.deepEqual(out, {
      name: 'ledger-sync',
      deployKey: REDACTED,
      pin: REDACTED,
      note: REDACTED,
      githubToken: REDACTED,
      nested: { password: REDACTED, keep: 'v', list: [{ apiKey: REDACTED }] },
    });
  });
});
