'use client';
import type { SummaryAnswer, TeamReport, TeamRollup, TrendAnswer } from '@bank/plugin-scorecards';
import Link from 'next/link';
import { useSearchParams } from 'next/navigation';
import { entityHref, shortName } from '../../lib/refs.ts';
import { ApiErrorBox, Skeleton } from '../common/feedback';
import { useApi } from '../common/use-api';

const pct = (n: number, of: number) => (of ? `${Math.round((n / of) * 100)}%` : '–');

/** /scorecards: pass rates by collective and squad, worst first, and the trend; ?team= one team's failing checks. */
export function ScorecardsView() {
  const team = useSearchParams().get('team');
  return team ? <TeamView team={team} /> : <RollupView />;
}

function RollupView() {
  const { data, error } = useApi<SummaryAnswer>('/api/scorecards/summary');
  const first = data?.rollups[0]?.scorecard;
  const trend = useApi<TrendAnswer>(first ? `/api/scorecards/trend?scorecard=${first}&days=90` : null).data;
  if (error) return <ApiErrorBox error={error} title="Scorecards could not be read" />;
  // data-ready: the rollups are drawn (what the journeys and bench/scorecards/page.ts wait for).
  if (!data)
    return (
      <div data-testid="scorecards" data-ready="false">
        <Skeleton lines={6} />
      </div>
    );
  return (
    <div className="stack" style={{ gap: 16 }} data-testid="scorecards" data-ready="true">
      {data.rollups.map((r) => (
        <section key={r.scorecard} className="card card-pad" data-testid={`rollup-${r.scorecard}`}>
          <h2>
            {r.title} <span className="muted small">{r.services} services</span>
          </h2>
          <p className="small">
            {r.levels.map((l) => `${l} ${pct(r.atLeast[l], r.services)}`).join(' · ')}
            {r.scorecard === first && trend && trend.trend.length > 0 && (
              <span className="muted">
                {' '}
                · trend ({r.levels[0]}):{' '}
                {trend.trend
                  .map((t) => `${t.day.slice(5)} ${pct(t.atLeast[r.levels[0]] ?? 0, t.services)}`)
                  .join(', ')}
              </span>
            )}
          </p>
          <TeamTable title="Collectives, worst first" teams={r.collectives} levels={r.levels} />
          <TeamTable title="Squads, worst first" teams={r.squads} levels={r.levels} link />
        </section>
      ))}
    </div>
  );
}

function TeamTable({
  title,
  teams,
  levels,
  link,
}: {
  title: string;
  teams: TeamRollup[];
  levels: string[];
  link?: boolean;
}) {
  return (
    <>
      <h3 style={{ marginTop: 12 }}>{title}</h3>
      <table className="table">
        <thead>
          <tr>
            <th>team</th>
            <th>services</th>
            {levels.map((l) => (
              <th key={l}>{l}</th>
            ))}
            <th>maturity</th>
            <th>most failing</th>
          </tr>
        </thead>
        <tbody>
          {teams.map((t) => (
            <tr key={t.team}>
              <td>
                {link ? (
                  <Link prefetch={false} href={`/scorecards?team=${encodeURIComponent(t.team)}`}>
                    {shortName(t.team)}
                  </Link>
                ) : (
                  shortName(t.team)
                )}
              </td>
              <td>{t.services}</td>
              {levels.map((l) => (
                <td key={l}>{pct(t.atLeast[l], t.services)}</td>
              ))}
              <td>{t.maturity ?? '–'}</td>
              <td className="small">{t.topFailing.map((f) => `${f.check} (${f.services})`).join(', ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function TeamView({ team }: { team: string }) {
  const { data, error } = useApi<TeamReport>(`/api/scorecards/team?team=${encodeURIComponent(team)}`);
  if (error) return <ApiErrorBox error={error} title="The team's scores could not be read" />;
  if (!data) return <Skeleton lines={6} />;
  return (
    <div className="stack" style={{ gap: 16 }} data-testid="team-scores">
      <p>
        <Link prefetch={false} href="/scorecards">
          All teams
        </Link>{' '}
        · {shortName(data.team)}
      </p>
      {data.scorecards.map((s) => (
        <section key={s.scorecard} className="card card-pad">
          <h2>{s.scorecard}</h2>
          <table className="table">
            <thead>
              <tr>
                <th>service</th>
                <th>tier</th>
                <th>level</th>
                <th>failing checks</th>
              </tr>
            </thead>
            <tbody>
              {s.services.map((x) => (
                <tr key={x.entity} data-testid={`team-service-${shortName(x.entity)}`}>
                  <td>
                    <Link prefetch={false} href={`${entityHref(x.entity)}#scorecards`}>
                      {shortName(x.entity)}
                    </Link>
                  </td>
                  <td>{x.tier ?? ''}</td>
                  <td>{x.level ?? '–'}</td>
                  <td className="small">
                    {x.checks
                      .filter((c) => c.status === 'fail')
                      .map((c) => `${c.title}: ${c.why}`)
                      .join('; ')}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
    </div>
  );
}
