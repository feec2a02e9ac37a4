/**
 * Pass rates by collective and squad, worst first: what leadership asks ("which teams carry the risk?").
 */
import type { Scorecard } from './definition.ts';
import type { EntityScore } from './evaluate.ts';

export interface TeamRollup {
  team: string;
  /** squad or collective */
  level: 'squad' | 'collective';
  collective: string | null;
  services: number;
  /** Services at each level or above, by level name. */
  atLeast: Record<string, number>;
  /** Share of services at the lowest level or above (0–1). */
  passRate: number;
  /** The checks failing most often in this team, with how many services fail each. */
  topFailing: { check: string; services: number }[];
  /** The team's maturity: the level most of its services reach (null: most reach none). */
  maturity: string | null;
}

export interface ScorecardRollup {
  scorecard: string;
  title: string;
  levels: string[];
  services: number;
  atLeast: Record<string, number>;
  passRate: number;
  collectives: TeamRollup[];
  squads: TeamRollup[];
}

export function rollup(card: Scorecard, scores: EntityScore[]): ScorecardRollup {
  const levels = card.levels.map((l) => l.name);
  const bySquad = new Map<string, EntityScore[]>();
  const byCollective = new Map<string, EntityScore[]>();
  for (const s of scores) {
    const squad = s.owner ?? '(no owner)';
    push(bySquad, squad, s);
    push(byCollective, s.collective ?? '(no collective)', s);
  }
  const team = (name: string, list: EntityScore[], level: TeamRollup['level']): TeamRollup => {
    const atLeast = countAtLeast(levels, list);
    const failing = new Map<string, number>();
    for (const s of list)
      for (const c of s.checks)
        if (c.status === 'fail') failing.set(c.check, (failing.get(c.check) ?? 0) + 1);
    let maturity: string | null = null;
    for (const l of levels) if (atLeast[l] * 2 > list.length) maturity = l;
    return {
      team: name,
      level,
      collective: level === 'squad' ? (list[0]?.collective ?? null) : name,
      services: list.length,
      atLeast,
      passRate: list.length ? atLeast[levels[0]] / list.length : 1,
      topFailing: [...failing.entries()]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .slice(0, 5)
        .map(([check, services]) => ({ check, services })),
      maturity,
    };
  };
  const worstFirst = (a: TeamRollup, b: TeamRollup) =>
    a.passRate - b.passRate || b.services - a.services || a.team.localeCompare(b.team);
  const atLeast = countAtLeast(levels, scores);
  return {
    scorecard: card.name,
    title: card.title,
    levels,
    services: scores.length,
    atLeast,
    passRate: scores.length ? atLeast[levels[0]] / scores.length : 1,
    collectives: [...byCollective].map(([n, l]) => team(n, l, 'collective')).sort(worstFirst),
    squads: [...bySquad].map(([n, l]) => team(n, l, 'squad')).sort(worstFirst),
  };
}

function countAtLeast(levels: string[], scores: EntityScore[]): Record<string, number> {
  const atLeast: Record<string, number> = Object.fromEntries(levels.map((l) => [l, 0]));
  for (const s of scores) {
    const i = s.level === null ? -1 : levels.indexOf(s.level);
    for (let j = 0; j <= i; j++) atLeast[levels[j]]++;
  }
  return atLeast;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}
