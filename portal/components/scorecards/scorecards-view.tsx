'use client';
import type { SummaryAnswer, TeamReport, TeamRollup, TrendAnswer } from '@bank/plugin-scorecards';
import Link from 'next/link';
import { useSearchParams } from 'next/navigation';
import { useState } from 'react';
import {
  scorecardsFullSummaryApiUrl,
  scorecardsSummaryApiUrl,
  scorecardsTeamApiUrl,
} from '../../lib/api-urls.ts';
import { entityHref, shortName } from '../../lib/refs.ts';
import { ApiErrorBox, Skeleton } from '../common/feedback';
import { useApi } from '../common/use-api';

const pct = (n: number, of: number) => (of ? `${Math.round((n / of) * 100)}%` : '–');

/** /scorecards: pass rates by collective and squad, worst first, and the trend; ?team= one team's failing checks. */
export function ScorecardsView({ summary }: { summary?: { url: string; data: SummaryAnswer } }) {
  const params = useSearchParams();
  const team = params.get('team');
  return team ? (
    <TeamView team={team} />
  ) : (
    <RollupView url={scorecardsSummaryApiUrl(params.get('top'))} summary={summary} />
  );
}

/** `summary`: the page's answer as the page read it on the server (in the HTML at first paint), if it could. */
function RollupView({ url, summary }: { url: string; summary?: { url: string; data: SummaryAnswer } }) {
  const { data, error } = useApi<SummaryAnswer>(url, summary);
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
        <RollupCard key={r.scorecard} rollup={r} trend={r.scorecard === first ? trend : null} />
      ))}
    </div>
  );
}

type Rollup = SummaryAnswer['rollups'][number];

/**
 * One scorecard's rollup. The page's answer holds the worst SCORECARDS_TOP collectives and squads; "show
 * all" asks for the whole list (thousands of squads at 35,000 services) only when someone wants it.
 */
function RollupCard({ rollup: r, trend }: { rollup: Rollup; trend: TrendAnswer | null }) {
  const [showAll, setShowAll] = useState({ collectives: false, squads: false });
  const full = useApi<SummaryAnswer>(
    showAll.collectives || showAll.squads ? scorecardsFullSummaryApiUrl(r.scorecard) : null,
  );
  const all = full.data?.rollups[0];
  return (
    <section className="card card-pad" data-testid={`rollup-${r.scorecard}`}>
      <h2>
        {r.title} <span className="muted small">{r.services} services</span>
      </h2>
      <p className="small">
        {r.levels.map((l) => `${l} ${pct(r.atLeast[l], r.services)}`).join(' · ')}
        {trend && trend.trend.length > 0 && (
          <span className="muted">
            {' '}
            · trend ({r.levels[0]}):{' '}
            {trend.trend
              .map((t) => `${t.day.slice(5)} ${pct(t.atLeast[r.levels[0]] ?? 0, t.services)}`)
              .join(', ')}
          </span>
        )}
      </p>
      {full.error && <ApiErrorBox error={full.error} title="Every team's scores could not be read" />}
      <TeamTable
        title="Collectives, worst first"
        noun="collectives"
        teams={showAll.collectives && all ? all.collectives : r.collectives}
        total={r.collectivesTotal}
        levels={r.levels}
        loading={showAll.collectives && full.loading}
        onShowAll={() => setShowAll((s) => ({ ...s, collectives: true }))}
      />
      <TeamTable
        title="Squads, worst first"
        noun="squads"
        teams={showAll.squads && all ? all.squads : r.squads}
        total={r.squadsTotal}
        levels={r.levels}
        loading={showAll.squads && full.loading}
        onShowAll={() => setShowAll((s) => ({ ...s, squads: true }))}
        link
      />
    </section>
  );
}

function TeamTable({
  title,
  noun,
  teams,
  total,
  levels,
  loading,
  onShowAll,
  link,
}: {
  title: string;
  noun: 'collectives' | 'squads';
  teams: TeamRollup[];
  total: number;
  levels: string[];
  loading: boolean;
  onShowAll: () => void;
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
      {teams.length < total && (
        <p className="small muted" data-testid={`${noun}-cut`}>
          The worst {teams.length} of {total.toLocaleString('en-GB')} {noun}.{' '}
          <button
            type="button"
            className="link-btn"
            onClick={onShowAll}
            disabled={loading}
            data-testid={`show-all-${noun}`}
          >
            {loading ? 'Loading…' : `Show all ${total.toLocaleString('en-GB')}`}
          </button>
        </p>
      )}
    </>
  );
}

function TeamView({ team }: { team: string }) {
  const { data, error } = useApi<TeamReport>(scorecardsTeamApiUrl(team));
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
