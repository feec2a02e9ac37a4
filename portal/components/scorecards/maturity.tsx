import type { TeamMaturity } from '@bank/plugin-scorecards';
import Link from 'next/link';

/** Colours of the levels, lowest first (the highest is always green); below the lowest is red. */
const SHADES = ['var(--warn)', 'var(--tier3)', 'var(--ok)'];

function shade(levels: string[], l: string): string {
  return l === 'none'
    ? 'var(--danger)'
    : SHADES[Math.max(0, SHADES.length - (levels.length - levels.indexOf(l)))];
}

/** What the readiness bars' colours mean (they are not the tier colours). */
export function LevelLegend({ levels }: { levels: string[] }) {
  if (levels.length === 0) return null;
  return (
    <div className="legend" data-testid="level-legend" role="note" aria-label="Level colours">
      {[...[...levels].reverse(), 'none'].map((l) => (
        <span key={l}>
          <i style={{ background: shade(levels, l) }} aria-hidden="true" />
          {l === 'none' ? `below ${levels[0]}` : l}
        </span>
      ))}
    </div>
  );
}

/**
 * A team's production readiness: a bar of how many of its services stop at each level (highest first,
 * then none), the numbers in words, the change in its pass rate since the window's first stored day, and
 * a link to its failing checks on the scorecards page.
 */
export function MaturityCell({ entry, levels }: { entry: TeamMaturity | undefined; levels: string[] }) {
  if (!entry) return <span className="muted small">not scored</span>;
  const order = [...[...levels].reverse(), 'none'].filter((l) => (entry.spread[l] ?? 0) > 0);
  const words = order.map((l) => `${l} ${entry.spread[l]}`).join(' · ') || 'no services scored';
  const passed = Math.round(entry.passRate * 100);
  const points = entry.trend ? Math.round((entry.passRate - entry.trend.passRate) * 100) : null;
  return (
    <Link
      prefetch={false}
      href={`/scorecards?team=${encodeURIComponent(entry.team)}`}
      data-testid="team-maturity"
      title={`${entry.services} of its services are scored (the scorecard's scope); open the team's failing checks`}
      className="small"
      style={{ display: 'inline-flex', gap: 8, alignItems: 'center' }}
    >
      <span className="bar" style={{ width: 90 }} aria-hidden="true">
        {entry.services > 0 &&
          order.map((l) => (
            <span
              key={l}
              style={{ width: `${(100 * entry.spread[l]) / entry.services}%`, background: shade(levels, l) }}
            />
          ))}
      </span>
      <span>
        <strong data-testid="team-maturity-level">{entry.maturity ?? 'below the lowest level'}</strong>{' '}
        <span data-testid="team-maturity-pass">
          {passed}% reach {levels[0]}
        </span>{' '}
        <span className="muted" data-testid="team-maturity-spread">
          ({words})
        </span>
        {points !== null && entry.trend && (
          <span className="muted" data-testid="team-maturity-trend">
            {' '}
            {points > 0 ? `▲ ${points}` : points < 0 ? `▼ ${-points}` : '±0'} pts since {entry.trend.since}
          </span>
        )}
      </span>
    </Link>
  );
}
