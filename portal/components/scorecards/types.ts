/** The shapes /api/scorecards answers (plugins/scorecards), as the UI reads them. */
export interface ScoreCheck {
  check: string;
  title: string;
  level: string | null;
  status: 'pass' | 'fail' | 'n/a';
  why: string;
  fix: string;
  definedAt: { file: string; line: number; column: number };
  evidence?: { file: string; line?: number; url?: string };
}

export interface EntityScore {
  entity: string;
  scorecard: string;
  level: string | null;
  next: { level: string; failing: string[] } | null;
  owner: string | null;
  collective: string | null;
  tier: number | null;
  checks: ScoreCheck[];
}

export interface EntityScoreReport {
  entity: string;
  passes: boolean;
  scorecards: (EntityScore & { title: string; levels: string[]; stale: boolean })[];
}

export interface TeamRollup {
  team: string;
  services: number;
  atLeast: Record<string, number>;
  passRate: number;
  maturity: string | null;
  topFailing: { check: string; services: number }[];
}

export interface ScorecardRollup {
  scorecard: string;
  title: string;
  levels: string[];
  services: number;
  atLeast: Record<string, number>;
  collectives: TeamRollup[];
  squads: TeamRollup[];
  stale?: boolean;
}

export interface TeamScores {
  team: string;
  scorecards: { scorecard: string; levels: string[]; services: EntityScore[] }[];
}

export interface TrendAnswer {
  trend: { day: string; services: number; atLeast: Record<string, number> }[];
}

/** GET /api/scorecards/teams: each team's level spread today and its pass rate on the window's first day. */
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

export interface TeamsMaturity {
  scorecard: string | null;
  title: string | null;
  levels: string[];
  days: number;
  teams: TeamMaturity[];
}
