import { resolveRef } from '@bank/graph';
import { toPortalError } from '@bank/plugin-graph';
import { createApp } from '@bank/plugin-kit';
import type { Hono } from 'hono';
import {
  entityReport,
  levelParam,
  rollups,
  type ScorecardSummary,
  scorecardInfos,
  teamReport,
  topParam,
} from '../lib/queries.ts';
import type { TeamRollup } from '../lib/rollup.ts';
import type { ScorecardService } from '../lib/service.ts';
import type { ScorecardStore, TrendPoint } from '../lib/store.ts';

/** GET /api/scorecards/summary. */
export interface SummaryAnswer {
  rollups: ScorecardSummary[];
}

/** GET /api/scorecards/trend: per day, oldest first, the services and how many reach each level. */
export interface TrendAnswer {
  scorecard: string;
  days: number;
  /** A collective or squad ref, or `*` for the estate. */
  team: string;
  trend: TrendPoint[];
}

/** One team in GET /api/scorecards/teams: its level spread today and its pass rate on the window's first day. */
export interface TeamMaturity {
  team: string;
  level: 'squad' | 'collective';
  services: number;
  /** The level most of its services reach (null: most reach none). */
  maturity: string | null;
  /** Services whose highest level is each level, and `none` below the lowest. */
  spread: Record<string, number>;
  passRate: number;
  trend: { since: string; services: number; passRate: number } | null;
}

/** GET /api/scorecards/teams. */
export interface TeamsMaturity {
  scorecard: string | null;
  title: string | null;
  levels: string[];
  days: number;
  teams: TeamMaturity[];
}

export interface ScorecardsRouterDeps {
  scorecards: ScorecardService;
  /** Scores stored with history (the trend, a service's history); without it those answer empty lists. */
  store?: ScorecardStore;
}

/**
 * `/api/scorecards`: read-only. The scorecards and their file errors, the rollup by collective and squad,
 * one service's report, one team's services, the trend. Scorecards change through their files (reviewed
 * like code), never through the API, so there is no write route.
 */
export function createScorecardsRouter(deps: ScorecardsRouterDeps): Hono {
  const app = createApp();
  const svc = deps.scorecards;
  const graphErrors = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      throw toPortalError(err);
    }
  };
  app.get('/', (c) => c.json({ scorecards: scorecardInfos(svc), errors: svc.errors() }));
  app.get('/summary', (c) => {
    const answer: SummaryAnswer = {
      rollups: rollups(svc, c.req.query('scorecard') || undefined, topParam(c.req.query('top'))),
    };
    return c.json(answer);
  });
  app.get('/entity', (c) => {
    const ref = c.req.query('ref') ?? '';
    return c.json(graphErrors(() => entityReport(svc, ref, levelParam(c.req.query('level')))));
  });
  app.get('/team', (c) => c.json(graphErrors(() => teamReport(svc, c.req.query('team') ?? ''))));
  app.get('/trend', async (c) => {
    const scorecard = c.req.query('scorecard') || svc.scorecards()[0]?.scorecard.name || '';
    svc.scorecard(scorecard);
    const days = Math.min(365, Math.max(1, Number(c.req.query('days') ?? 30) || 30));
    const team = c.req.query('team') || '*';
    const answer: TrendAnswer = {
      scorecard,
      days,
      team,
      trend: deps.store ? await deps.store.trend(scorecard, days, team) : [],
    };
    return c.json(answer);
  });
  // Each team's maturity for the org view, beside its load: its level spread today and its pass rate on the
  // first stored day of the window (before today), in the default scorecard unless one is named.
  app.get('/teams', async (c) => {
    const name = c.req.query('scorecard') || svc.defaultScorecard()?.scorecard.name;
    const none: TeamsMaturity = { scorecard: null, title: null, levels: [], days: 0, teams: [] };
    if (!name) return c.json(none);
    const [r] = rollups(svc, name);
    const days = Math.min(365, Math.max(1, Number(c.req.query('days') ?? 30) || 30));
    const then = deps.store ? await deps.store.teamsSince(r.scorecard, days, svc.now()) : new Map();
    const answer: TeamsMaturity = {
      scorecard: r.scorecard,
      title: r.title,
      levels: r.levels,
      days,
      teams: [...r.collectives, ...r.squads].map((t) => teamMaturity(r.levels, t, then.get(t.team))),
    };
    return c.json(answer);
  });
  app.get('/history', async (c) => {
    const ref = graphErrors(() => resolveRef(svc.graph, c.req.query('ref') ?? '', { fn: 'score' }));
    return c.json({ entity: ref, history: deps.store ? await deps.store.history(ref) : [] });
  });
  return app;
}

/** How many of a team's services stop at each level (and below the lowest: `none`), and its pass-rate trend. */
function teamMaturity(levels: string[], t: TeamRollup, past: TrendPoint | undefined): TeamMaturity {
  const spread: Record<string, number> = {};
  levels.forEach((l, i) => {
    spread[l] = t.atLeast[l] - (i + 1 < levels.length ? t.atLeast[levels[i + 1]] : 0);
  });
  spread.none = t.services - (levels.length ? t.atLeast[levels[0]] : 0);
  return {
    team: t.team,
    level: t.level,
    services: t.services,
    maturity: t.maturity,
    spread,
    passRate: t.passRate,
    trend: past
      ? {
          since: past.day,
          services: past.services,
          passRate: past.services ? (past.atLeast[levels[0]] ?? 0) / past.services : 1,
        }
      : null,
  };
}
