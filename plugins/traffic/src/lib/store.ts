import { openDriver, type SqlDriver } from '@bank/catalog/store/sql.ts';
import { DDSketch } from '@datadog/sketches-js';
import {
  type Bucket,
  bucketCutoff,
  type EdgeState,
  type EdgeType,
  type ServiceState,
  type TrafficState,
  WINDOWS,
  type WindowName,
} from './traffic.ts';

/**
 * Observed traffic in the portal's store (tables TrafficService, TrafficEdge, TrafficEdgeBucket; schema and
 * migrations in catalog/prisma). Written through the raw driver with one upsert per changed row, in one
 * transaction per write, so an accepted batch is stored whole or not at all. Every figure written is the
 * running total held in memory (loaded from here at start), so a write is idempotent.
 */
export class TrafficStore {
  private sql: SqlDriver;
  /** Writes are serialised; requests that arrive during a write share the next one (group commit). */
  private writing: Promise<void> = Promise.resolve();
  private pending: Promise<void> | undefined;

  constructor(url: string) {
    this.sql = openDriver(url);
  }

  async load(): Promise<{ edges: EdgeState[]; services: ServiceState[] }> {
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
    return { edges: [...edges.values()], services };
  }

  /**
   * Writes what `state` changed since the last write; resolves once it is stored. Calls made while a write
   * runs are served together by the next one. A failed write puts its rows back and rejects.
   */
  persist(state: TrafficState, now: number = Date.now()): Promise<void> {
    if (this.pending) return this.pending;
    const run = this.writing.then(async () => {
      this.pending = undefined;
      const dirty = state.takeDirty();
      try {
        await this.write(dirty, state, now);
      } catch (err) {
        state.restoreDirty(dirty);
        throw err;
      }
    });
    this.pending = run;
    this.writing = run.catch(() => undefined);
    return run;
  }

  private async write(
    dirty: ReturnType<TrafficState['takeDirty']>,
    state: TrafficState,
    now: number,
  ): Promise<void> {
    if (dirty.edges.length + dirty.buckets.length + dirty.services.length === 0) return;
    await this.sql.transaction(async (tx) => {
      for (const s of dirty.services) {
        await tx.exec(
          `INSERT INTO "TrafficService" ("name", "firstSeenMs", "lastSeenMs") VALUES (?, ?, ?)
           ON CONFLICT ("name") DO UPDATE SET "lastSeenMs" = excluded."lastSeenMs"`,
          [s.name, s.firstSeenMs, s.lastSeenMs],
        );
      }
      for (const e of dirty.edges) {
        await tx.exec(
          `INSERT INTO "TrafficEdge" ("caller", "callee", "type", "virtual", "requests", "errors", "firstSeenMs", "lastSeenMs")
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT ("caller", "callee", "type") DO UPDATE SET "virtual" = excluded."virtual",
             "requests" = excluded."requests", "errors" = excluded."errors", "lastSeenMs" = excluded."lastSeenMs"`,
          [e.caller, e.callee, e.type, e.virtual, e.requests, e.errors, e.firstSeenMs, e.lastSeenMs],
        );
      }
      for (const { edge, window, bucket } of dirty.buckets) {
        await tx.exec(
          `INSERT INTO "TrafficEdgeBucket" ("caller", "callee", "type", "window", "startMs", "requests", "errors", "latency")
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT ("caller", "callee", "type", "window", "startMs") DO UPDATE SET
             "requests" = excluded."requests", "errors" = excluded."errors", "latency" = excluded."latency"`,
          [
            edge.caller,
            edge.callee,
            edge.type,
            window,
            bucket.startMs,
            bucket.requests,
            bucket.errors,
            Buffer.from(bucket.latency.toProto()),
          ],
        );
      }
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
