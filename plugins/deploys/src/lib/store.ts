import type { SqlDriver } from '@bank/catalog';
import { ConflictError, InputError } from '@bank/plugin-kit';
import {
  type Deploy,
  type DeployEventInput,
  type DeploySource,
  type DeployStatus,
  STATUS_RANK,
} from './model.ts';

/** What recording an event did: a new deploy, a status moved on, the same event again, or a late one. */
export type RecordOutcome = 'created' | 'updated' | 'replayed' | 'late';

/** An event whose service is resolved to its canonical ref. */
export interface ResolvedDeployEvent extends DeployEventInput {
  service: string;
}

interface Row {
  id: string;
  service: string;
  environment: string;
  version: string;
  image: string | null;
  commit: string | null;
  actor: string | null;
  status: string;
  statusRank: number | string;
  startedAtMs: number | string;
  finishedAtMs: number | string | null;
  source: string;
  labels: string | null;
  recordedBy: string;
  receivedAtMs: number | string;
}

const COLUMNS = [
  'id',
  'service',
  'environment',
  'version',
  'image',
  'commit',
  'actor',
  'status',
  'statusRank',
  'startedAtMs',
  'finishedAtMs',
  'source',
  'labels',
  'recordedBy',
  'receivedAtMs',
] as const;
const SELECT = `SELECT ${COLUMNS.map((c) => `"${c}"`).join(', ')} FROM "DeployEvent"`;

const iso = (ms: number) => new Date(ms).toISOString();

export function deployOf(r: Row): Deploy {
  return {
    id: r.id,
    service: r.service,
    environment: r.environment,
    version: r.version,
    image: r.image,
    commit: r.commit,
    actor: r.actor,
    status: r.status as DeployStatus,
    startedAt: iso(Number(r.startedAtMs)),
    finishedAt: r.finishedAtMs === null ? null : iso(Number(r.finishedAtMs)),
    source: r.source as DeploySource,
    labels: r.labels ? (JSON.parse(r.labels) as Record<string, unknown>) : {},
    recordedBy: r.recordedBy,
    receivedAt: iso(Number(r.receivedAtMs)),
  };
}

/** One key of newestOf: a service's newest deploy, optionally to one environment and among some statuses. */
export interface NewestKey {
  service: string;
  environment?: string;
  statuses?: DeployStatus[];
}

export interface DeployQuery {
  /** Canonical service refs; undefined means every service. */
  services?: string[];
  environment?: string;
  sinceMs?: number;
  untilMs?: number;
  statuses?: DeployStatus[];
  limit?: number;
}

/**
 * The deploy tables (DeployEnvironment, DeployEvent) in the catalogue's database, through its raw driver.
 * Every write is one statement, so a crash or a concurrent writer never leaves half an event; an accepted
 * deploy is never deleted (only the generated demo history is, see dropDemo).
 */
export class DeployStore {
  constructor(private readonly sql: SqlDriver) {}

  /** Write the configured environments with their order; ones no longer configured keep their rows. */
  async syncEnvironments(names: string[]): Promise<void> {
    await this.sql.transaction(async (tx) => {
      for (const [rank, name] of names.entries()) {
        await tx.exec(
          'INSERT INTO "DeployEnvironment" ("name", "rank") VALUES (?, ?) ON CONFLICT ("name") DO UPDATE SET "rank" = excluded."rank"',
          [name, rank],
        );
      }
    });
  }

  /**
   * Store one event. A new id is inserted; the same id again is a replay (nothing changes) unless its
   * status is further along (started → succeeded), which moves the stored deploy on; an event that is
   * behind what is stored arrived late and changes nothing. An id already used for another service,
   * environment or version is refused: an id names one deploy.
   */
  async record(
    ev: ResolvedDeployEvent,
    meta: { source: DeploySource; recordedBy: string; receivedAtMs: number },
  ): Promise<{ outcome: RecordOutcome; deploy: Deploy }> {
    const rank = STATUS_RANK[ev.status];
    const row: Row = {
      id: ev.id,
      service: ev.service,
      environment: ev.environment,
      version: ev.version,
      image: ev.image,
      commit: ev.commit,
      actor: ev.actor,
      status: ev.status,
      statusRank: rank,
      startedAtMs: ev.startedAtMs,
      finishedAtMs: ev.finishedAtMs,
      source: meta.source,
      labels: ev.labels ? JSON.stringify(ev.labels) : null,
      recordedBy: meta.recordedBy,
      receivedAtMs: meta.receivedAtMs,
    };
    const inserted = await this.sql.exec(
      `INSERT INTO "DeployEvent" (${COLUMNS.map((c) => `"${c}"`).join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')}) ON CONFLICT ("id") DO NOTHING`,
      COLUMNS.map((c) => row[c]),
    );
    // Inserted: what is stored is exactly this row (no read back needed).
    if (inserted > 0) return { outcome: 'created', deploy: deployOf(row) };
    const stored = await this.mustGet(ev.id);
    const differs = (['service', 'environment', 'version'] as const).filter((f) => stored[f] !== ev[f]);
    if (differs.length > 0) {
      throw new ConflictError(
        `Deploy ${ev.id} is already recorded as ${stored.service} ${stored.version} to ${stored.environment}; this event says ${differs.map((f) => `${f} ${ev[f]}`).join(', ')}. An id names one deploy: use a new id for a new deploy`,
        {
          id: ev.id,
          stored: { service: stored.service, environment: stored.environment, version: stored.version },
        },
      );
    }
    const storedRank = STATUS_RANK[stored.status];
    if (rank < storedRank) return { outcome: 'late', deploy: stored };
    if (rank === storedRank) {
      if (stored.status !== ev.status) {
        throw new ConflictError(
          `Deploy ${ev.id} is already recorded as ${stored.status}; it cannot also be ${ev.status}`,
          { id: ev.id, status: stored.status },
        );
      }
      return { outcome: 'replayed', deploy: stored };
    }
    const startedMs = Date.parse(stored.startedAt);
    if (ev.finishedAtMs !== null && ev.finishedAtMs < startedMs) {
      throw new InputError(
        `Deploy ${ev.id}: finishedAt ${iso(ev.finishedAtMs)} is before its recorded startedAt ${stored.startedAt}`,
      );
    }
    // Conditional on the rank, so two writers moving the same deploy on cannot move it back.
    await this.sql.exec(
      `UPDATE "DeployEvent" SET "status" = ?, "statusRank" = ?, "finishedAtMs" = COALESCE(?, "finishedAtMs"),
        "image" = COALESCE("image", ?), "commit" = COALESCE("commit", ?), "actor" = COALESCE("actor", ?)
       WHERE "id" = ? AND "statusRank" < ?`,
      [ev.status, rank, ev.finishedAtMs, ev.image, ev.commit, ev.actor, ev.id, rank],
    );
    return { outcome: 'updated', deploy: await this.mustGet(ev.id) };
  }

  async get(id: string): Promise<Deploy | undefined> {
    const rows = await this.sql.query<Row>(`${SELECT} WHERE "id" = ?`, [id]);
    return rows[0] ? deployOf(rows[0]) : undefined;
  }

  private async mustGet(id: string): Promise<Deploy> {
    const d = await this.get(id);
    if (!d) throw new Error(`deploy ${id} vanished between its write and its read`);
    return d;
  }

  /** Deploys, newest first by when they started (not when they arrived). */
  async list(q: DeployQuery = {}): Promise<Deploy[]> {
    if (q.services !== undefined && q.services.length === 0) return [];
    const limit = Math.max(1, Math.min(q.limit ?? 100, 10_000));
    const rest: string[] = [];
    const restParams: unknown[] = [];
    if (q.environment !== undefined) {
      rest.push('"environment" = ?');
      restParams.push(q.environment);
    }
    if (q.sinceMs !== undefined) {
      rest.push('"startedAtMs" >= ?');
      restParams.push(q.sinceMs);
    }
    if (q.untilMs !== undefined) {
      rest.push('"startedAtMs" <= ?');
      restParams.push(q.untilMs);
    }
    if (q.statuses !== undefined) {
      rest.push(`"status" IN (${q.statuses.map(() => '?').join(', ')})`);
      restParams.push(...q.statuses);
    }
    const tail = ` ORDER BY "startedAtMs" DESC, "id" DESC LIMIT ${limit}`;
    // A few services (a path, a squad): one indexed range per service, merged by the database. With
    // `service IN (…)` the planner walks the time index over every service's deploys in the window.
    if (q.services !== undefined && q.services.length > 1 && q.services.length <= 64) {
      const params: unknown[] = [];
      const parts = q.services.map((service, i) => {
        params.push(service, ...restParams);
        return `SELECT * FROM (${SELECT} WHERE ${['"service" = ?', ...rest].join(' AND ')}${tail}) AS "s${i}"`;
      });
      const rows = await this.sql.query<Row>(`${parts.join(' UNION ALL ')}${tail}`, params);
      return rows.map(deployOf);
    }
    const where = [...rest];
    const params = [...restParams];
    if (q.services !== undefined) {
      where.unshift(`"service" IN (${q.services.map(() => '?').join(', ')})`);
      params.unshift(...q.services);
    }
    const rows = await this.sql.query<Row>(
      `${SELECT}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}${tail}`,
      params,
    );
    return rows.map(deployOf);
  }

  /** The newest deploy of `service` to `environment`, optionally only among some statuses. */
  async latest(service: string, environment: string, statuses?: DeployStatus[]): Promise<Deploy | undefined> {
    const [d] = await this.list({ services: [service], environment, statuses, limit: 1 });
    return d;
  }

  /**
   * The newest deploy for each of many (service, environment, statuses) keys in one statement: one
   * indexed "newest first, limit 1" per key, glued with UNION ALL (a page of the catalogue, every hop of a
   * path). Answers line up with `keys`; undefined where there is none.
   */
  async newestOf(keys: NewestKey[]): Promise<(Deploy | undefined)[]> {
    const out: (Deploy | undefined)[] = new Array(keys.length).fill(undefined);
    // SQLite allows 500 terms in a compound SELECT; stay well under it.
    for (let start = 0; start < keys.length; start += 200) {
      const chunk = keys.slice(start, start + 200);
      const params: unknown[] = [];
      const parts = chunk.map((k, i) => {
        const where = ['"service" = ?'];
        params.push(k.service);
        if (k.environment !== undefined) {
          where.push('"environment" = ?');
          params.push(k.environment);
        }
        if (k.statuses !== undefined) {
          where.push(`"status" IN (${k.statuses.map(() => '?').join(', ')})`);
          params.push(...k.statuses);
        }
        // The key's position is our own integer, inlined: PostgreSQL cannot type a bare parameter.
        return `SELECT * FROM (SELECT ${start + i} AS "k", ${COLUMNS.map((c) => `"${c}"`).join(', ')} FROM "DeployEvent" WHERE ${where.join(' AND ')} ORDER BY "startedAtMs" DESC, "id" DESC LIMIT 1) AS "n${i}"`;
      });
      const rows = await this.sql.query<Row & { k: number | string }>(parts.join(' UNION ALL '), params);
      for (const r of rows) out[Number(r.k)] = deployOf(r);
    }
    return out;
  }

  /** The services with a deploy (any status) that started at or after `sinceMs`, optionally to one environment. */
  async changedSince(sinceMs: number, environment?: string): Promise<Set<string>> {
    const rows = await this.sql.query<{ service: string }>(
      `SELECT DISTINCT "service" FROM "DeployEvent" WHERE "startedAtMs" >= ?${environment === undefined ? '' : ' AND "environment" = ?'}`,
      environment === undefined ? [sinceMs] : [sinceMs, environment],
    );
    return new Set(rows.map((r) => r.service));
  }

  async count(): Promise<number> {
    const rows = await this.sql.query<{ n: number | string }>('SELECT COUNT(*) AS "n" FROM "DeployEvent"');
    return Number(rows[0]?.n ?? 0);
  }

  /** How many stored deploys came from the generated demo history. */
  async demoCount(): Promise<number> {
    const rows = await this.sql.query<{ n: number | string }>(
      'SELECT COUNT(*) AS "n" FROM "DeployEvent" WHERE "source" = ?',
      ['demo'],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Drop the generated demo history (when the first real event arrives); returns how many were dropped. */
  async dropDemo(): Promise<number> {
    return this.sql.exec('DELETE FROM "DeployEvent" WHERE "source" = ?', ['demo']);
  }

  /** Bulk insert (demo history, benchmarks); ids already stored are skipped. */
  async insertMany(
    events: ResolvedDeployEvent[],
    meta: { source: DeploySource; recordedBy: string; receivedAtMs: number },
  ): Promise<void> {
    await this.sql.transaction(async (tx) => {
      for (let i = 0; i < events.length; i += 500) {
        const chunk = events.slice(i, i + 500);
        const existing = new Set(
          (
            await tx.query<{ id: string }>(
              `SELECT "id" FROM "DeployEvent" WHERE "id" IN (${chunk.map(() => '?').join(', ')})`,
              chunk.map((e) => e.id),
            )
          ).map((r) => r.id),
        );
        await tx.insertMany(
          'DeployEvent',
          [...COLUMNS],
          chunk
            .filter((e) => !existing.has(e.id))
            .map((e) => [
              e.id,
              e.service,
              e.environment,
              e.version,
              e.image,
              e.commit,
              e.actor,
              e.status,
              STATUS_RANK[e.status],
              e.startedAtMs,
              e.finishedAtMs,
              meta.source,
              e.labels ? JSON.stringify(e.labels) : null,
              meta.recordedBy,
              meta.receivedAtMs,
            ]),
        );
      }
    });
    // A big bulk load leaves PostgreSQL's statistics behind until autovacuum catches up (up to a minute),
    // and with them the planner walks the wrong index: refresh them now (as the catalogue's ingest does).
    if (this.sql.provider === 'postgresql' && events.length >= 10_000)
      await this.sql.exec('ANALYZE "DeployEvent"');
  }
}
