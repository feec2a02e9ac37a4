import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { testDatabases } from '../testing/databases.ts';
import { openDriver } from './sql.ts';
import { DatabaseUnavailableError } from './unavailable.ts';

/** The one SQLite connection the catalogue, deploys and traffic share: one caller's rollback is its own. */
describe('SQLite driver shared by concurrent callers (real file)', () => {
  const open = async () => {
    const db = openDriver(`file:${path.join(mkdtempSync(path.join(tmpdir(), 'sql-driver-')), 't.db')}`);
    await db.exec('CREATE TABLE t (id TEXT PRIMARY KEY)');
    return db;
  };
  const ids = async (db: Awaited<ReturnType<typeof open>>) =>
    (await db.query<{ id: string }>('SELECT id FROM t ORDER BY id')).map((r) => r.id);

  it("a transaction that rolls back does not undo another caller's write made while it was open", async () => {
    const db = await open();
    let inside!: () => void;
    const started = new Promise<void>((resolve) => (inside = resolve));
    const failing = db
      .transaction(async (tx) => {
        await tx.exec('INSERT INTO t (id) VALUES (?)', ['rolled-back']);
        inside();
        await new Promise((resolve) => setTimeout(resolve, 30));
        throw new Error('this write fails');
      })
      .catch((err: Error) => err.message);
    await started;
    // Another caller, while the first transaction is open: a plain write and a transaction of its own.
    const plain = db.exec('INSERT INTO t (id) VALUES (?)', ['plain']);
    const other = db.transaction((tx) => tx.exec('INSERT INTO t (id) VALUES (?)', ['other']));
    assert.equal(await failing, 'this write fails');
    await Promise.all([plain, other]);
    assert.deepEqual(await ids(db), ['other', 'plain']);
    await db.close();
  });

  it('nested transaction() calls and statements inside a transaction run in it (no deadlock)', async () => {
    const db = await open();
    await db.transaction(async (tx) => {
      await tx.exec('INSERT INTO t (id) VALUES (?)', ['a']);
      await db.exec('INSERT INTO t (id) VALUES (?)', ['b']);
      await db.transaction((inner) => inner.exec('INSERT INTO t (id) VALUES (?)', ['c']));
      assert.deepEqual(await ids(db), ['a', 'b', 'c']);
    });
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.exec('INSERT INTO t (id) VALUES (?)', ['d']);
        await db.transaction((inner) => inner.exec('INSERT INTO t (id) VALUES (?)', ['e']));
        throw new Error('undo d and e');
      }),
      /undo d and e/,
    );
    assert.deepEqual(await ids(db), ['a', 'b', 'c']);
    await db.close();
  });

  it('many concurrent transactions each commit whole, one at a time', async () => {
    const db = await open();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        db.transaction(async (tx) => {
          await tx.exec('INSERT INTO t (id) VALUES (?)', [`${i}-1`]);
          await new Promise((resolve) => setImmediate(resolve));
          await tx.exec('INSERT INTO t (id) VALUES (?)', [`${i}-2`]);
        }),
      ),
    );
    assert.equal((await ids(db)).length, 40);
    await db.close();
  });
});

/** A PostgreSQL connection that dies in the middle of a transaction must fail that transaction, not the process. */
describe('PostgreSQL driver when the server drops a connection inside a transaction', () => {
  const pg = testDatabases()[1];
  it('rejects the transaction as "unreachable" and the process lives on; the next query works', {
    skip: pg.skip,
  }, async () => {
    const url = await pg.create();
    const db = openDriver(url);
    const admin = openDriver(url);
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      await db.exec('CREATE TABLE t (id TEXT PRIMARY KEY)');
      const outcome = await db
        .transaction(async (tx) => {
          await tx.exec('INSERT INTO t (id) VALUES (?)', ['lost-with-the-connection']);
          const [{ pid }] = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
          // The server ends this backend while the transaction is idle between statements (a restart, a cut).
          await admin.query('SELECT pg_terminate_backend(?)', [pid]);
          await new Promise((resolve) => setTimeout(resolve, 200));
          await tx.exec('INSERT INTO t (id) VALUES (?)', ['never-written']);
        })
        .then(
          () => 'committed',
          (err: Error) => err,
        );
      assert.ok(outcome instanceof DatabaseUnavailableError, `expected unavailable, got ${String(outcome)}`);
      assert.deepEqual(uncaught, [], 'no error escaped as an uncaught exception');
      assert.deepEqual(await db.query('SELECT id FROM t'), [], 'nothing of the broken transaction was kept');
    } finally {
      process.off('uncaughtException', onUncaught);
      await db.close();
      await admin.close();
    }
  });
});
