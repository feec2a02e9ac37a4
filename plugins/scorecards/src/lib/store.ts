/**
 * Scores with history in the catalogue's database (SQLite or PostgreSQL, through its raw driver): the
 * current result per service and scorecard, every change appended to ScorecardHistory (never rewritten),
 * and per day the level counts of the estate, each collective and each squad, so a trend is one query.
 */
import type { SqlDriver } from '@bank/catalog';
import type { Scorecard } from './definition.ts';
import type { EntityScore } from './evaluate.ts';
import type { RescoreResult } from './service.ts';

interface CurrentRow {
  scorecard: string;
  entityRef: string;
  level: string | null;
  failing: string;
}

export interface TrendPoint {
  day: string;
  services: number;
  atLeast: Record<string, number>;
}

export interface HistoryRow {
  scorecard: string;
  entity: string;
  level: string | null;
  failing: string[];
  removed: boolean;
  at: string;
}

const failingOf = (s: EntityScore) =>
  s.checks
    .filter((c) => c.status === 'fail')
    .map((c) => c.check)
    .sort()
    .join(',');

export class ScorecardStore {
  private current = new Map<string, CurrentRow>();
  private loaded = false;

  constructor(private readonly sql: SqlDriver) {}

  private async load(): Promise<void> {
    if (this.loaded) return;
    await this.sql.each<CurrentRow>(
      'SELECT "scorecard", "entityRef", "level", "failing" FROM "ScorecardScore"',
      [],
      (r) => this.current.set(`${r.scorecard}\n${r.entityRef}`, r),
    );
    this.loaded = true;
  }

  /**
   * Record what a re-score changed: a result whose level or failing checks differ from the stored one is
   * appended to the history and becomes the current one. Returns how many history rows were appended.
   */
  async record(result: RescoreResult, atMs: number): Promise<number> {
    await this.load();
    const changed: EntityScore[] = [];
    for (const s of result.changed) {
      const was = this.current.get(`${s.scorecard}\n${s.entity}`);
      if (!was || was.level !== s.level || was.failing !== failingOf(s)) changed.push(s);
    }
    const removed = result.removed.filter((r) => this.current.has(`${r.scorecard}\n${r.entity}`));
    if (changed.length === 0 && removed.length === 0) return 0;
    await this.sql.transaction(async (tx) => {
      for (let i = 0; i < changed.length; i += 500) {
        const chunk = changed.slice(i, i + 500);
        await tx.insertMany(
          'ScorecardHistory',
          ['scorecard', 'entityRef', 'level', 'failing', 'removed', 'atMs'],
          chunk.map((s) => [s.scorecard, s.entity, s.level, failingOf(s), false, atMs]),
        );
        for (const s of chunk)
          await tx.exec(
            `INSERT INTO "ScorecardScore" ("scorecard", "entityRef", "level", "failing", "owner", "collective", "updatedMs")
             VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT ("scorecard", "entityRef") DO UPDATE SET "level" = excluded."level", "failing" = excluded."failing",
               "owner" = excluded."owner", "collective" = excluded."collective", "updatedMs" = excluded."updatedMs"`,
            [s.scorecard, s.entity, s.level, failingOf(s), s.owner, s.collective, atMs],
          );
      }
      for (const r of removed) {
        await tx.insertMany(
          'ScorecardHistory',
          ['scorecard', 'entityRef', 'level', 'failing', 'removed', 'atMs'],
          [[r.scorecard, r.entity, null, '', true, atMs]],
        );
        await tx.exec('DELETE FROM "ScorecardScore" WHERE "scorecard" = ? AND "entityRef" = ?', [
          r.scorecard,
          r.entity,
        ]);
      }
    });
    for (const s of changed)
      this.current.set(`${s.scorecard}\n${s.entity}`, {
        scorecard: s.scorecard,
        entityRef: s.entity,
        level: s.level,
        failing: failingOf(s),
      });
    for (const r of removed) this.current.delete(`${r.scorecard}\n${r.entity}`);
    return changed.length + removed.length;
  }

  /** Today's level counts for the estate ("*"), each collective and each squad, replacing today's earlier counts. */
  async recordDay(card: Scorecard, scores: EntityScore[], atMs: number): Promise<void> {
    const day = new Date(atMs).toISOString().slice(0, 10);
    const levels = card.levels.map((l) => l.name);
    const teams = new Map<string, { services: number; atLeast: Record<string, number> }>();
    const add = (team: string, s: EntityScore) => {
      let t = teams.get(team);
      if (!t) {
        t = { services: 0, atLeast: Object.fromEntries(levels.map((l) => [l, 0])) };
        teams.set(team, t);
      }
      t.services++;
      const i = s.level === null ? -1 : levels.indexOf(s.level);
      for (let j = 0; j <= i; j++) t.atLeast[levels[j]]++;
    };
    for (const s of scores) {
      add('*', s);
      if (s.collective) add(s.collective, s);
      if (s.owner && s.owner !== s.collective) add(s.owner, s);
    }
    await this.sql.transaction(async (tx) => {
      await tx.exec('DELETE FROM "ScorecardDaily" WHERE "scorecard" = ? AND "day" = ?', [card.name, day]);
      await tx.insertMany(
        'ScorecardDaily',
        ['scorecard', 'day', 'team', 'services', 'atLeast'],
        [...teams].map(([team, t]) => [card.name, day, team, t.services, JSON.stringify(t.atLeast)]),
      );
    });
  }

  /** Per day, oldest first: services and how many reach each level, for the estate or one collective or squad. */
  async trend(scorecard: string, days: number, team = '*', nowMs = Date.now()): Promise<TrendPoint[]> {
    const since = new Date(nowMs - days * 86_400_000).toISOString().slice(0, 10);
    const rows = await this.sql.query<{ day: string; services: number | string; atLeast: string }>(
      'SELECT "day", "services", "atLeast" FROM "ScorecardDaily" WHERE "scorecard" = ? AND "team" = ? AND "day" >= ? ORDER BY "day"',
      [scorecard, team, since],
    );
    return rows.map((r) => ({
      day: r.day,
      services: Number(r.services),
      atLeast: JSON.parse(r.atLeast) as Record<string, number>,
    }));
  }

  /**
   * Per team (collective or squad), its counts on the first day of the window before today: what today's
   * counts are compared with. One query for every team; a team first counted today has none.
   */
  async teamsSince(scorecard: string, days: number, nowMs = Date.now()): Promise<Map<string, TrendPoint>> {
    const since = new Date(nowMs - days * 86_400_000).toISOString().slice(0, 10);
    const today = new Date(nowMs).toISOString().slice(0, 10);
    const rows = await this.sql.query<{
      day: string;
      team: string;
      services: number | string;
      atLeast: string;
    }>(
      `SELECT d."day", d."team", d."services", d."atLeast" FROM "ScorecardDaily" d
       JOIN (SELECT "team", MIN("day") AS "first" FROM "ScorecardDaily"
             WHERE "scorecard" = ? AND "day" >= ? AND "day" < ? GROUP BY "team") f
         ON d."team" = f."team" AND d."day" = f."first"
       WHERE d."scorecard" = ?`,
      [scorecard, since, today, scorecard],
    );
    return new Map(
      rows.map((r) => [
        r.team,
        {
          day: r.day,
          services: Number(r.services),
          atLeast: JSON.parse(r.atLeast) as Record<string, number>,
        },
      ]),
    );
  }

  /** One service's history against every scorecard, newest first. */
  async history(entityRef: string, limit = 100): Promise<HistoryRow[]> {
    const rows = await this.sql.query<{
      scorecard: string;
      entityRef: string;
      level: string | null;
      failing: string;
      removed: boolean | number;
      atMs: number | string;
    }>(
      `SELECT "scorecard", "entityRef", "level", "failing", "removed", "atMs" FROM "ScorecardHistory" WHERE "entityRef" = ? ORDER BY "atMs" DESC, "id" DESC LIMIT ${Math.max(1, Math.min(limit, 1000))}`,
      [entityRef],
    );
    return rows.map((r) => ({
      scorecard: r.scorecard,
      entity: r.entityRef,
      level: r.level,
      failing: r.failing ? r.failing.split(',') : [],
      removed: Boolean(r.removed),
      at: new Date(Number(r.atMs)).toISOString(),
    }));
  }
}

/**
 * Keep the store in step with a ScorecardService: every re-score's changes appended in order (one write at a
 * time, so history keeps the order the scores changed in), and today's level counts refreshed shortly after.
 * `idle()` resolves when everything re-scored so far is written.
 */
export function persistScores(
  service: {
    onRescore(fn: (r: RescoreResult) => void): void;
    scorecards(): { scorecard: Scorecard }[];
    results(name: string): EntityScore[];
    now: () => number;
  },
  store: ScorecardStore,
  onError: (err: Error) => void = (err) =>
    process.stderr.write(`scorecards: storing scores failed: ${err.message}\n`),
): { idle(): Promise<void>; close(): Promise<void> } {
  let chain: Promise<unknown> = Promise.resolve();
  let dayTimer: NodeJS.Timeout | undefined;
  const writeDays = () =>
    (chain = chain
      .then(async () => {
        const at = service.now();
        for (const { scorecard } of service.scorecards())
          await store.recordDay(scorecard, service.results(scorecard.name), at);
      })
      .catch(onError));
  service.onRescore((r) => {
    const at = service.now();
    chain = chain.then(() => store.record(r, at)).catch(onError);
    clearTimeout(dayTimer);
    dayTimer = setTimeout(writeDays, 1000);
    dayTimer.unref?.();
  });
  return {
    idle: async () => {
      if (dayTimer) {
        clearTimeout(dayTimer);
        dayTimer = undefined;
        writeDays();
      }
      await chain;
    },
    close: async () => {
      clearTimeout(dayTimer);
      await chain;
    },
  };
}
