'use client';
import type { OrgChart, OrgSquad } from '@bank/plugin-explorer';
import type { TeamsMaturity } from '@bank/plugin-scorecards';
import Link from 'next/link';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useMemo } from 'react';
import { ORG_API_URL } from '../../lib/api-urls.ts';
import { entityHref, refFromParam, shortName } from '../../lib/refs.ts';
import { ORG_SCHEMA, readState, type StateOf, writeState } from '../../lib/url-state.ts';
import { EntityLink } from '../common/entity-link';
import { ApiErrorBox, PageSkeleton } from '../common/feedback';
import { TierBadge } from '../common/tier-badge';
import { TierBar, TierLegend } from '../common/tier-bar';
import { useApi } from '../common/use-api';
import { LevelLegend, MaturityCell } from '../scorecards/maturity';
import { CouplingMatrix } from './coupling-matrix';
import { SquadPanel } from './squad-panel';

type State = StateOf<typeof ORG_SCHEMA>;

const perEngineer = (services: number, members: number) =>
  members > 0 ? services / members : Number.POSITIVE_INFINITY;
const fmtRatio = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '∞');

type Update = (patch: Partial<State>) => void;
type SquadRow = OrgSquad & { collective: OrgChart['collectives'][number] };
/** How each team reads on the readiness scorecards (by team ref), and the levels to show. */
interface Maturity {
  of: Map<string, TeamsMaturity['teams'][number]>;
  levels: TeamsMaturity['levels'];
  title: string;
}
const MATURITY_HINT =
  "The level most of a team's services reach, and how its share reaching the lowest level moved in 30 days";

/** The org view: the bank → collectives → squads tree, each team's load, and the risks leadership asks about. */
export function OrgView() {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const state = useMemo(() => readState(ORG_SCHEMA, new URLSearchParams(params.toString())), [params]);
  const update = (patch: Partial<State>) =>
    router.replace(`${pathname}${writeState(ORG_SCHEMA, { ...state, ...patch })}`, { scroll: false });
  const { data, error } = useApi<OrgChart>(ORG_API_URL);
  const scores = useApi<TeamsMaturity>('/api/scorecards/teams?days=30').data;
  const maturity: Maturity = {
    of: new Map((scores?.teams ?? []).map((t) => [t.team, t])),
    levels: scores?.levels ?? [],
    title: scores?.title ?? 'Production readiness',
  };
  if (error) return <ApiErrorBox error={error} title="The org chart could not be loaded" />;
  if (!data) return <PageSkeleton label="the organisation" />;

  const squadRef = state.squad ? refFromParam(state.squad, 'group') : '';
  const squad = data.collectives.flatMap((c) => c.squads).find((s) => s.ref === squadRef);
  const openCollective = state.collective
    ? refFromParam(state.collective, 'group')
    : squad
      ? data.collectives.find((c) => c.squads.some((s) => s.ref === squad.ref))?.ref
      : undefined;

  return (
    <div className="layout-side" data-testid="org-view">
      <OrgTree
        data={data}
        state={state}
        update={update}
        squadRef={squadRef}
        openCollective={openCollective}
      />
      {squad ? (
        <SquadPanel squad={squad} chart={data} />
      ) : (
        <OrgOverview data={data} state={state} update={update} maturity={maturity} />
      )}
    </div>
  );
}

/** The tree on the side: the organisation, its collectives, the open collective's squads. */
function OrgTree({
  data,
  state,
  update,
  squadRef,
  openCollective,
}: {
  data: OrgChart;
  state: State;
  update: Update;
  squadRef: string;
  openCollective: string | undefined;
}) {
  return (
    <nav className="card card-pad" aria-label="Organisation tree">
      <ul className="tree">
        <li>
          <button
            type="button"
            className="node"
            aria-current={!state.squad}
            onClick={() => update({ squad: '', collective: '' })}
          >
            <strong>{data.root?.title ?? 'The organisation'}</strong>
            <span className="muted small" style={{ marginLeft: 'auto' }}>
              {data.root?.services ?? 0}
            </span>
          </button>
          <ul>
            {data.collectives.map((c) => {
              const open = openCollective === c.ref;
              return (
                <li key={c.ref}>
                  <button
                    type="button"
                    className="node"
                    onClick={() => update({ collective: open ? '' : c.name, squad: open ? '' : state.squad })}
                  >
                    <span aria-hidden="true">{open ? '▾' : '▸'}</span>
                    {c.title}
                    <span className="muted small" style={{ marginLeft: 'auto' }}>
                      {c.services}
                    </span>
                  </button>
                  {open && (
                    <ul>
                      {c.squads.map((s) => (
                        <li key={s.ref}>
                          <button
                            type="button"
                            className="node"
                            aria-current={s.ref === squadRef}
                            data-testid="org-squad"
                            onClick={() => update({ squad: s.name, collective: c.name })}
                          >
                            {s.title}
                            <span className="muted small" style={{ marginLeft: 'auto' }}>
                              {s.services}
                            </span>
                          </button>
                        </li>
                      ))}
                    </ul>
                  )}
                </li>
              );
            })}
          </ul>
        </li>
      </ul>
    </nav>
  );
}

/** The whole organisation at once: headline counts, load and readiness per team, the risks, the coupling. */
function OrgOverview({
  data,
  state,
  update,
  maturity,
}: {
  data: OrgChart;
  state: State;
  update: Update;
  maturity: Maturity;
}) {
  const engineers = data.root?.members ?? 0;
  const squads: SquadRow[] = data.collectives.flatMap((c) => c.squads.map((s) => ({ ...s, collective: c })));
  return (
    <div className="stack" style={{ gap: 16 }}>
      <div className="grid grid-4">
        <div className="card stat">
          <div className="value">{data.collectives.length}</div>
          <div className="label">collectives</div>
        </div>
        <div className="card stat">
          <div className="value">{squads.length}</div>
          <div className="label">squads</div>
        </div>
        <div className="card stat">
          <div className="value">{engineers}</div>
          <div className="label">people</div>
        </div>
        <div className="card stat">
          <div className="value">{data.root?.services ?? 0}</div>
          <div className="label">
            services ({fmtRatio(perEngineer(data.root?.services ?? 0, engineers))} per person)
          </div>
        </div>
      </div>
      <CollectivesTable collectives={data.collectives} maturity={maturity} />
      <TeamsByLoad squads={squads} update={update} maturity={maturity} />
      <div className="grid grid-2">
        <OrphansCard orphans={data.ownership.orphans} />
        <TierInversionsCard
          inversions={data.ownership.tierInversions}
          total={data.totals?.tierInversions ?? data.ownership.tierInversions.length}
        />
      </div>
      <CouplingCard data={data} squads={squads} state={state} update={update} />
      <p className="small muted">
        Open any team's page for its members and services, e.g.{' '}
        <Link prefetch={false} href={entityHref(data.collectives[0]?.ref ?? 'group:default/bank')}>
          {data.collectives[0]?.title}
        </Link>
        .
      </p>
    </div>
  );
}

function CollectivesTable({
  collectives,
  maturity,
}: {
  collectives: OrgChart['collectives'];
  maturity: Maturity;
}) {
  return (
    <section className="card" aria-labelledby="collective-maturity-title">
      <div className="card-head">
        <h2 id="collective-maturity-title">Collectives: load and readiness</h2>
        <LevelLegend levels={maturity.levels} />
      </div>
      <div className="table-wrap" style={{ maxHeight: 420 }}>
        <table className="table">
          <thead>
            <tr>
              <th>Collective</th>
              <th className="num">Engineers</th>
              <th className="num">Services</th>
              <th className="num">Per engineer</th>
              <th title={MATURITY_HINT}>{maturity.title}</th>
            </tr>
          </thead>
          <tbody>
            {collectives.map((c) => (
              <tr key={c.ref}>
                <td>{c.title}</td>
                <td className="num">{c.members}</td>
                <td className="num">{c.services}</td>
                <td className="num">{fmtRatio(perEngineer(c.services, c.members))}</td>
                <td data-testid={`collective-maturity-${c.name}`}>
                  <MaturityCell entry={maturity.of.get(c.ref)} levels={maturity.levels} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** Every squad, most services per engineer first; a name opens the squad. */
function TeamsByLoad({
  squads,
  update,
  maturity,
}: {
  squads: SquadRow[];
  update: Update;
  maturity: Maturity;
}) {
  return (
    <section className="card" aria-labelledby="teams-title">
      <div className="card-head">
        <h2 id="teams-title">Teams by load</h2>
        <span className="muted small">services per engineer, highest first</span>
        <TierLegend />
      </div>
      <div className="table-wrap" style={{ maxHeight: 460 }}>
        <table className="table">
          <thead>
            <tr>
              <th>Squad</th>
              <th>Collective</th>
              <th className="num">Engineers</th>
              <th className="num">Services</th>
              <th className="num">Per engineer</th>
              <th>By tier</th>
              <th title={MATURITY_HINT}>{maturity.title}</th>
            </tr>
          </thead>
          <tbody>
            {squads
              .slice()
              .sort(
                (a, b) =>
                  perEngineer(b.services, b.members) - perEngineer(a.services, a.members) ||
                  a.title.localeCompare(b.title),
              )
              .map((s) => (
                <tr key={s.ref}>
                  <td>
                    <button
                      type="button"
                      className="btn btn-ghost"
                      style={{ height: 'auto', padding: 0, color: 'var(--link)' }}
                      onClick={() => update({ squad: s.name, collective: s.collective.name })}
                    >
                      {s.title}
                    </button>
                  </td>
                  <td>{s.collective.title}</td>
                  <td className="num">{s.members}</td>
                  <td
                    className="num"
                    title={
                      s.services === 0
                        ? 'No Component names this squad as its owner; open the squad to see why'
                        : undefined
                    }
                  >
                    {s.services}
                  </td>
                  <td className="num">
                    <span className={perEngineer(s.services, s.members) >= 3 ? 'badge badge-warn' : ''}>
                      {fmtRatio(perEngineer(s.services, s.members))}
                    </span>
                  </td>
                  <td>
                    <TierBar byTier={s.byTier} />
                  </td>
                  <td data-testid={`squad-maturity-${s.name}`}>
                    <MaturityCell entry={maturity.of.get(s.ref)} levels={maturity.levels} />
                  </td>
                </tr>
              ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function OrphansCard({ orphans }: { orphans: OrgChart['ownership']['orphans'] }) {
  return (
    <section className="card card-pad" aria-labelledby="orphans-title">
      <h2 id="orphans-title">Orphaned services ({orphans.length})</h2>
      {orphans.length === 0 && <p className="muted small">Every service has an owner with people in it.</p>}
      <ul className="list">
        {orphans.slice(0, 30).map((o) => (
          <li key={o.ref}>
            <span className="grow">
              <EntityLink entityRef={o.ref} />
            </span>
            <span className="muted small">
              {o.reason === 'no-owner'
                ? 'no owner'
                : o.reason === 'owner-missing'
                  ? `owner ${shortName(o.owner)} missing`
                  : `${shortName(o.owner)} has no members`}
            </span>
            <TierBadge tier={o.tier} />
          </li>
        ))}
      </ul>
    </section>
  );
}

function TierInversionsCard({
  inversions,
  total,
}: {
  inversions: OrgChart['ownership']['tierInversions'];
  total: number;
}) {
  return (
    <section className="card card-pad" aria-labelledby="inversions-title">
      <h2 id="inversions-title">Tier inversions ({total})</h2>
      <p className="small muted" style={{ marginTop: 0 }}>
        Tier-1 services calling tier-3 or tier-4 services: the weaker link sets the reliability.
      </p>
      <ul className="list">
        {inversions.slice(0, 30).map((t) => (
          <li key={`${t.from}>${t.to}`}>
            <span className="grow">
              <EntityLink entityRef={t.from} /> <TierBadge tier={t.fromTier} /> →{' '}
              <EntityLink entityRef={t.to} /> <TierBadge tier={t.toTier} />
            </span>
            <span className="muted small">{shortName(t.toOwner)}</span>
          </li>
        ))}
      </ul>
      {inversions.length > 30 && <p className="muted small">and {inversions.length - 30} more</p>}
    </section>
  );
}

/** Calls between teams as a matrix, by collective or by squad (a tab). */
function CouplingCard({
  data,
  squads,
  state,
  update,
}: {
  data: OrgChart;
  squads: SquadRow[];
  state: State;
  update: Update;
}) {
  return (
    <section className="card" aria-labelledby="coupling-title">
      <div className="card-head">
        <h2 id="coupling-title">Team-to-team coupling</h2>
        <div className="tabs" role="tablist" style={{ margin: 0, border: 0 }}>
          <button
            type="button"
            role="tab"
            aria-selected={state.matrix === 'collective'}
            onClick={() => update({ matrix: 'collective' })}
          >
            Collectives
          </button>
          <button
            type="button"
            role="tab"
            aria-selected={state.matrix === 'squad'}
            onClick={() => update({ matrix: 'squad' })}
          >
            Squads
          </button>
        </div>
      </div>
      <div className="card-pad table-wrap">
        <CouplingMatrix
          teams={
            state.matrix === 'squad'
              ? squads.map((s) => ({ ref: s.ref, title: s.title }))
              : data.collectives.map((c) => ({ ref: c.ref, title: c.title }))
          }
          pairs={state.matrix === 'squad' ? data.ownership.coupling : data.ownership.collectiveCoupling}
        />
      </div>
    </section>
  );
}
