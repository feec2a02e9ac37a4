import { openDriver, type SqlDriver } from '@bank/catalog/sql';
import { DDSketch } from '@datadog/sketches-js';
import { encodeSketch } from './sketch.ts';
import {
  type Bucket,
  bucketCutoff,
  type EdgeState,
  type EdgeType,
  type JournalRequest,
  type JournalService,
  type ServiceState,
  type TrafficState,
  WINDOWS,
  type WindowName,
} from './traffic.ts';

/**
 * Observed traffic in the portal's store (tables TrafficService, TrafficEdge, TrafficEdgeBucket and
 * TrafficJournal; schema and migrations in catalog/prisma), through the raw driver.
 *
 * Before a batch is answered, what it added (its requests and the services seen) is appended to the journal:
 * one row, one statement. Every few seconds a checkpoint writes the changed aggregates (one upsert per row;
 * each holds the running total, so it is idempotent) and deletes the journal rows they include, in one
 * transaction. At start the aggregates are loaded and the journal is replayed on top. So a crash loses nothing
 * that was answered, and the per-batch cost is one insert instead of thousands of upserts.
 *
 * Appends and checkpoints run one at a time, in order; each takes what the state holds at the moment it runs,
 * so a batch's requests are either in a journal row or in the aggregates a checkpoint wrote, never both
 * unfolded and never neither. Batches that arrive while one write runs share the next (group commit).
 */
export class TrafficStore {
  private sql: SqlDriver;
  /** Appends and checkpoints run one at a time, in order. */
  private writing: Promise<void> = Promise.resolve();

  constructor(url: string) {
    this.sql = openDriver(url);
  }

  async load(): Promise<{
    edges: EdgeState[];
    services: ServiceState[];
    journal: { requests: JournalRequest[]; services: JournalService[] };
  }> {
    const edges = new Map<string, EdgeState>();
    const key = (c: string, d: string, t: string) => `${c}\u0000${d}\u0000${t}`;
    const n = (v: unknown) => Number(v);
    await this.sql.each<Record<string, unknown>>(
      'SELECT "caller", "callee", "type", "virtual", "requests", "errors", "firstSeenMs", "lastSeenMs" FROM "TrafficEdge"',
      [],
      (r) => {
        edges.set(key(String(r.caller), String(r.callee), String(r.type)), {
          caller: String(r.caller),
          callee: String(r.callee),
          type: String(r.type) as EdgeType,
          virtual: Boolean(r.virtual),
          requests: n(r.requests),
          errors: n(r.errors),
          firstSeenMs: n(r.firstSeenMs),
          lastSeenMs: n(r.lastSeenMs),
          buckets: { '1m': [], '1h': [], '1d': [] },
        });
      },
    );
    await this.sql.each<Record<string, unknown>>(
      'SELECT "caller", "callee", "type", "window", "startMs", "requests", "errors", "latency" FROM "TrafficEdgeBucket" ORDER BY "startMs"',
      [],
      (r) => {
        const edge = edges.get(key(String(r.caller), String(r.callee), String(r.type)));
        const w = String(r.window) as WindowName;
        if (!edge || !(w in WINDOWS)) return;
        const bucket: Bucket = {
          startMs: n(r.startMs),
          requests: n(r.requests),
          errors: n(r.errors),
          latency: DDSketch.fromProto(new Uint8Array(r.latency as Buffer)),
        };
        edge.buckets[w].push(bucket);
      },
    );
    const services = (
      await this.sql.query<Record<string, unknown>>(
        'SELECT "name", "firstSeenMs", "lastSeenMs" FROM "TrafficService"',
      )
    ).map((r) => ({ name: String(r.name), firstSeenMs: n(r.firstSeenMs), lastSeenMs: n(r.lastSeenMs) }));
    const journal = { requests: [] as JournalRequest[], services: [] as JournalService[] };
    await this.sql.each<{ body: string }>('SELECT "body" FROM "TrafficJournal" ORDER BY "id"', [], (r) => {
      const j = JSON.parse(r.body) as { r: JournalRequest[]; s: JournalService[] };
      journal.requests.push(...j.r);
      journal.services.push(...j.s);
    });
    return { edges: [...edges.values()], services, journal };
  }

  /**
   * Appends what `state` accepted since the last append or checkpoint to the journal; resolves once stored.
   * A failed append puts it back and rejects (the batch is answered with an error; its sender retries).
   */
  append(state: TrafficState, now: number): Promise<void> {
    return this.enqueue('append', async () => {
      const j = state.takeJournal();
      if (j.requests.length + j.services.length === 0) return;
      try {
        await this.sql.exec('INSERT INTO "TrafficJournal" ("atMs", "body") VALUES (?, ?)', [
          now,
          JSON.stringify({ r: j.requests, s: j.services }),
        ]);
      } catch (err) {
        state.restoreJournal(j);
        throw err;
      }
    });
  }

  private queued = new Map<string, Promise<void>>();

  /** Runs `fn` after every write before it; a call while one of the same kind waits shares that one. */
  private enqueue(kind: string, fn: () => Promise<void>): Promise<void> {
    const waiting = this.queued.get(kind);
    if (waiting) return waiting;
    const run = this.writing.then(async () => {
      this.queued.delete(kind);
      await fn();
    });
    this.queued.set(kind, run);
    this.writing = run.catch(() => undefined);
    return run;
  }

  /**
   * Checkpoint: writes the aggregates `state` changed and deletes the journal rows they include, in one
   * transaction. A failed checkpoint puts its rows back (the journal still holds them) and rejects.
   */
  checkpoint(state: TrafficState, now: number = Date.now()): Promise<void> {
    return this.enqueue('checkpoint', async () => {
      const dirty = state.takeDirty();
      // What the journal would get next is in these aggregates already.
      const pending = state.takeJournal();
      try {
        await this.write(dirty, state, now);
      } catch (err) {
        state.restoreDirty(dirty);
        state.restoreJournal(pending);
        throw err;
      }
    });
  }

  private async write(
    dirty: ReturnType<TrafficState['takeDirty']>,
    state: TrafficState,
    now: number,
  ): Promise<void> {
    await this.sql.transaction(async (tx) => {
      // Every journal row now stored was appended before this checkpoint took the state: all are folded in.
      await tx.exec('DELETE FROM "TrafficJournal"');
      await upsertMany(
        tx,
        'TrafficService',
        ['name', 'firstSeenMs', 'lastSeenMs'],
        ['name'],
        ['lastSeenMs'],
        dirty.services.map((x) => [x.name, x.firstSeenMs, x.lastSeenMs]),
      );
      await upsertMany(
        tx,
        'TrafficEdge',
        ['caller', 'callee', 'type', 'virtual', 'requests', 'errors', 'firstSeenMs', 'lastSeenMs'],
        ['caller', 'callee', 'type'],
        ['virtual', 'requests', 'errors', 'lastSeenMs'],
        dirty.edges.map((e) => [
          e.caller,
          e.callee,
          e.type,
          e.virtual,
          e.requests,
          e.errors,
          e.firstSeenMs,
          e.lastSeenMs,
        ]),
      );
      await upsertMany(
        tx,
        'TrafficEdgeBucket',
        ['caller', 'callee', 'type', 'window', 'startMs', 'requests', 'errors', 'latency'],
        ['caller', 'callee', 'type', 'window', 'startMs'],
        ['requests', 'errors', 'latency'],
        dirty.buckets.map(({ edge, window, bucket }) => [
          edge.caller,
          edge.callee,
          edge.type,
          window,
          bucket.startMs,
          bucket.requests,
          bucket.errors,
          Buffer.from(encodeSketch(bucket.latency)),
        ]),
      );
      // Buckets older than what memory keeps are of no use to anyone: the figures stay on the edge row.
      for (const w of Object.keys(WINDOWS) as WindowName[]) {
        await tx.exec('DELETE FROM "TrafficEdgeBucket" WHERE "window" = ? AND "startMs" < ?', [
          w,
          bucketCutoff(w, now, state.limits.keep[w]),
        ]);
      }
    });
  }

  async close(): Promise<void> {
    await this.writing;
    await this.sql.close();
  }
}

/**
 * Multi-row `INSERT … ON CONFLICT DO UPDATE` (SQLite and PostgreSQL alike), 400 rows a statement: one round
 * trip per 400 rows instead of one per row. Each key appears once per call (the dirty sets are keyed).
 */
async function upsertMany(
  tx: SqlDriver,
  table: string,
  columns: string[],
  key: string[],
  update: string[],
  rows: unknown[][],
): Promise<void> {
  const q = (c: string) => `"${c}"`;
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  const tail = ` ON CONFLICT (${key.map(q).join(', ')}) DO UPDATE SET ${update.map((c) => `${q(c)} = excluded.${q(c)}`).join(', ')}`;
  for (let i = 0; i < rows.length; i += 400) {
    const chunk = rows.slice(i, i + 400);
    await tx.exec(
      `INSERT INTO ${q(table)} (${columns.map(q).join(', ')}) VALUES ${chunk.map(() => tuple).join(', ')}${tail}`,
      chunk.flat(),
    );
  }
}
