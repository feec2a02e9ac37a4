/**
 * The answers the CLI and the HTTP routes share: one service's scores, a team's, and the rollup.
 */
import { collectiveOf, resolveRef } from '@bank/graph';
import { InputError } from '@bank/plugin-kit';
import type { ScorecardError } from './definition.ts';
import type { EntityScore } from './evaluate.ts';
import { rollup, type ScorecardRollup } from './rollup.ts';
import type { LoadedScorecard, ScorecardService } from './service.ts';

export interface ScorecardInfo {
  name: string;
  title: string;
  description?: string;
  file: string;
  line: number;
  levels: { name: string; checks: string[] }[];
  stale: boolean;
  errors: ScorecardError[];
}

export function scorecardInfos(svc: ScorecardService): ScorecardInfo[] {
  return svc.scorecards().map((l) => ({
    name: l.scorecard.name,
    title: l.scorecard.title,
    ...(l.scorecard.description ? { description: l.scorecard.description } : {}),
    file: l.scorecard.file,
    line: l.scorecard.at.line,
    levels: l.scorecard.levels.map((x) => ({ name: x.name, checks: x.checks })),
    stale: l.stale,
    errors: l.errors,
  }));
}

export interface EntityReport {
  entity: string;
  scorecards: (EntityScore & {
    title: string;
    levels: string[];
    stale: boolean;
    passes: boolean;
    required: string;
  })[];
  /** False when a scorecard that applies is below its required level. */
  passes: boolean;
}

/**
 * One service against every scorecard that applies. `required` is the level a CI gate asks (default: each
 * scorecard's lowest); a scorecard without that level asks its lowest.
 */
export function entityReport(svc: ScorecardService, input: string, required?: string): EntityReport {
  const ref = resolveRef(svc.graph, input, { fn: 'score' });
  const scorecards = svc.entity(ref).map(({ scorecard, score }) => {
    const levels = scorecard.scorecard.levels.map((l) => l.name);
    const want = required && levels.includes(required) ? required : levels[0];
    const reached = score.level === null ? -1 : levels.indexOf(score.level);
    return {
      ...score,
      title: scorecard.scorecard.title,
      levels,
      stale: scorecard.stale,
      passes: reached >= levels.indexOf(want),
      required: want,
    };
  });
  return { entity: ref, scorecards, passes: scorecards.every((s) => s.passes) };
}

export interface TeamReport {
  team: string;
  scorecards: { scorecard: string; levels: string[]; services: EntityScore[] }[];
}

/** The services a squad owns, or a collective's squads own, with their scores, worst first. */
export function teamReport(svc: ScorecardService, input: string): TeamReport {
  const index = svc.graph;
  const team = resolveRef(index, input, {
    fn: 'score',
    field: 'team',
    accept: (r) => r.startsWith('group:'),
  });
  const isCollective = collectiveOf(index, team) === team;
  return {
    team,
    scorecards: svc.scorecards().map((l) => {
      const levels = l.scorecard.levels.map((x) => x.name);
      const rank = (s: EntityScore) => (s.level === null ? -1 : levels.indexOf(s.level));
      return {
        scorecard: l.scorecard.name,
        levels,
        services: svc
          .results(l.scorecard.name)
          .filter((s) => s.owner === team || (isCollective && s.collective === team))
          .sort((a, b) => rank(a) - rank(b) || a.entity.localeCompare(b.entity)),
      };
    }),
  };
}

/**
 * A scorecard's rollup as GET /api/scorecards/summary answers it: with whether its file is stale, and how
 * many collectives and squads there are in all (the lists may be cut to the worst, see `top`).
 */
export type ScorecardSummary = ScorecardRollup & {
  stale: boolean;
  collectivesTotal: number;
  squadsTotal: number;
};

/**
 * Each scorecard's rollup (or the one named). `top` keeps only the worst `top` collectives and squads of
 * each (the totals say how many there are): at 35,000 services there are thousands of squads, and a page
 * shows the worst first.
 */
export function rollups(svc: ScorecardService, name?: string, top?: number): ScorecardSummary[] {
  const cards = name ? [svc.scorecard(name)] : svc.scorecards();
  return cards.map((l) => {
    const r = rollupOf(svc, l);
    return {
      ...r,
      collectives: top === undefined ? r.collectives : r.collectives.slice(0, top),
      squads: top === undefined ? r.squads : r.squads.slice(0, top),
      stale: l.stale,
      collectivesTotal: r.collectives.length,
      squadsTotal: r.squads.length,
    };
  });
}

/**
 * A scorecard's rollup, kept while its scores and its loaded file are the same: at 35,000 services a rollup
 * walks 33,000 scores (a few hundred ms), and every page view and org view asks for it. Callers must not
 * change what it returns.
 */
const memo = new WeakMap<
  ScorecardService,
  Map<string, { version: number; card: LoadedScorecard; r: ScorecardRollup }>
>();

function rollupOf(svc: ScorecardService, card: LoadedScorecard): ScorecardRollup {
  let kept = memo.get(svc);
  if (!kept) {
    kept = new Map();
    memo.set(svc, kept);
  }
  const name = card.scorecard.name;
  const version = svc.scoresVersion();
  const hit = kept.get(name);
  if (hit && hit.version === version && hit.card === card) return hit.r;
  const r = rollup(card.scorecard, svc.results(name));
  kept.set(name, { version, card, r });
  return r;
}

/** `?top=`: a positive whole number, or undefined (every team). */
export function topParam(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^[1-9]\d{0,5}$/.test(value)) throw new InputError(`top "${value}" is not a positive whole number`);
  return Number(value);
}

export function levelParam(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^[a-z0-9-]+$/.test(value)) throw new InputError(`level "${value}" is not a level name`);
  return value;
}
