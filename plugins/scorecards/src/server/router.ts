import { resolveRef } from '@bank/graph';
import { toPortalError } from '@bank/plugin-graph/lib/errors.ts';
import { createApp } from '@bank/plugin-kit';
import type { Hono } from 'hono';
import { entityReport, levelParam, rollups, scorecardInfos, teamReport } from '../lib/queries.ts';
import type { ScorecardService } from '../lib/service.ts';
import type { ScorecardStore } from '../lib/store.ts';

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
  app.get('/summary', (c) => c.json({ rollups: rollups(svc, c.req.query('scorecard') || undefined) }));
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
    return c.json({
      scorecard,
      days,
      team,
      trend: deps.store ? await deps.store.trend(scorecard, days, team) : [],
    });
  });
  app.get('/history', async (c) => {
    const ref = graphErrors(() => resolveRef(svc.graph, c.req.query('ref') ?? '', { fn: 'score' }));
    return c.json({ entity: ref, history: deps.store ? await deps.store.history(ref) : [] });
  });
  return app;
}
