'use client';
import type { ImpactResult, ImpactRollup } from '@bank/graph';
import type { ChangedService, ChangeTimeline } from '@bank/plugin-deploys';
import Link from 'next/link';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useEffect, useMemo, useState } from 'react';
import { impactApiUrl } from '../../lib/api-urls.ts';
import { shortName } from '../../lib/refs.ts';
import { IMPACT_SCHEMA, readState, type StateOf, writeState } from '../../lib/url-state.ts';
import { EntityLink } from '../common/entity-link';
import { ApiErrorBox, Skeleton } from '../common/feedback';
import { TierBadge } from '../common/tier-badge';
import { TierBar, TierLegend } from '../common/tier-bar';
import { useApi } from '../common/use-api';
import { ago, StatusBadge, whoOf } from '../deploys/deploy-bits';

type State = StateOf<typeof IMPACT_SCHEMA>;

/** The blast radius of a service: every transitive caller by depth, rolled up to teams, tier 1 first. */
export function ImpactView() {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const state = useMemo(() => readState(IMPACT_SCHEMA, new URLSearchParams(params.toString())), [params]);
  const update = (patch: Partial<State>) =>
    router.replace(`${pathname}${writeState(IMPACT_SCHEMA, { ...state, ...patch })}`, { scroll: false });
  const url = impactApiUrl(state);
  const { data, error, loading } = useApi<ImpactResult>(url);
  // Deploys in the blast radius in the last 24 h: a second answer, shown when it arrives.
  const changes = useApi<ChangeTimeline>(
    data ? `/api/deploys/changes?impact=${encodeURIComponent(data.ref)}&since=24h` : null,
  ).data;

  return (
    <div className="stack" style={{ gap: 16 }}>
      <ImpactQuery state={state} update={update} />
      {!url && (
        <p className="muted">Name a service to see everything that would feel it fail, team by team.</p>
      )}
      {error && <ApiErrorBox error={error} title="The blast radius could not be computed" />}
      {loading && !data && <Skeleton height={200} />}
      {data && (
        <>
          <ImpactSummary data={data} />
          <ByDepth dependents={data.dependents} />
          <div className="grid grid-2">
            <RollupTable title="By collective" rows={data.byCollective} />
            <RollupTable title="By squad" rows={data.bySquad} />
          </div>
          <DependentsTable data={data} changes={changes} />
        </>
      )}
    </div>
  );
}

/** What to show the blast radius of, how many hops up, through which edges. */
function ImpactQuery({ state, update }: { state: State; update: (patch: Partial<State>) => void }) {
  const [text, setText] = useState(state.ref);
  useEffect(() => setText(state.ref), [state.ref]);
  return (
    <form
      className="card card-pad row"
      style={{ alignItems: 'flex-end' }}
      onSubmit={(e) => {
        e.preventDefault();
        update({ ref: text.trim() });
      }}
    >
      <label className="field">
        Service, API, system or team
        <input
          className="input"
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder="ledger"
          required
        />
      </label>
      <label className="field">
        Depth
        <select
          className="input"
          value={state.depth}
          onChange={(e) => update({ depth: Number(e.target.value) })}
        >
          <option value={0}>All</option>
          {[1, 2, 3, 4, 5, 6].map((d) => (
            <option key={d} value={d}>
              {d} hop{d === 1 ? '' : 's'}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        Edges
        <select
          className="input"
          name="via"
          value={state.via}
          onChange={(e) => update({ via: e.target.value as State['via'] })}
        >
          <option value="any">declared + observed</option>
          <option value="declared">declared only</option>
          <option value="observed">observed only (traces)</option>
        </select>
      </label>
      <button type="submit" className="btn btn-primary">
        Show blast radius
      </button>
    </form>
  );
}

function ImpactSummary({ data }: { data: ImpactResult }) {
  const tier1 = data.dependents.filter((d) => d.tier === 1).length;
  return (
    <div className="grid grid-4" data-testid="impact-summary">
      <div className="card stat">
        <div className="value">{data.total}</div>
        <div className="label">dependents{data.depth ? ` within ${data.depth} hops` : ''}</div>
      </div>
      <div className="card stat">
        <div className="value" style={{ color: tier1 ? 'var(--tier1)' : undefined }}>
          {tier1}
        </div>
        <div className="label">tier-1 services affected</div>
      </div>
      <div className="card stat">
        <div className="value">{data.bySquad.filter((s) => s.ref).length}</div>
        <div className="label">squads affected</div>
      </div>
      <div className="card stat">
        <div className="value">{data.byCollective.filter((s) => s.ref).length}</div>
        <div className="label">collectives affected</div>
      </div>
    </div>
  );
}

/** Every dependent (the first 500), tier 1 first, with who owns it and whether it was deployed in 24 h. */
function DependentsTable({ data, changes }: { data: ImpactResult; changes: ChangeTimeline | null }) {
  const changedBy = new Map((changes?.services ?? []).map((c) => [c.ref, c]));
  return (
    <section className="card">
      <div className="card-head">
        <h2>Dependents, tier 1 first</h2>
        {changes && (
          <Link
            prefetch={false}
            className="small"
            href={`/changes?impact=${encodeURIComponent(data.ref)}&since=24h`}
            data-testid="impact-changes-link"
          >
            {changes.services.filter((c) => c.changed).length} changed in 24 h
          </Link>
        )}
        <span className="muted small">from {data.origins.map((o) => shortName(o)).join(', ')}</span>
      </div>
      <div className="table-wrap" style={{ maxHeight: 560 }}>
        <table className="table">
          <thead>
            <tr>
              <th>Service</th>
              <th>Tier</th>
              <th className="num">Hops</th>
              <th>Through</th>
              <th>Owner</th>
              <th>On-call</th>
              <th>Deployed (24 h)</th>
            </tr>
          </thead>
          <tbody>
            {data.dependents.slice(0, 500).map((d) => (
              <tr key={d.ref}>
                <td>
                  <EntityLink entityRef={d.ref} />
                </td>
                <td>
                  <TierBadge tier={d.tier} />
                </td>
                <td className="num">{d.depth}</td>
                <td>
                  <EntityLink entityRef={d.through} />
                </td>
                <td>
                  <EntityLink entityRef={d.owner} />
                </td>
                <td className="mono small">{d.oncall ?? '—'}</td>
                <td className="small" data-testid="impact-changed">
                  <ChangedCell change={changedBy.get(d.ref)} />
                </td>
              </tr>
            ))}
            {data.dependents.length === 0 && (
              <tr>
                <td colSpan={7} className="muted">
                  Nothing calls it: a failure here stays here.
                </td>
              </tr>
            )}
          </tbody>
        </table>
        {data.dependents.length > 500 && (
          <p className="muted small card-pad">and {data.dependents.length - 500} more</p>
        )}
      </div>
    </section>
  );
}

function RollupTable({ title, rows }: { title: string; rows: ImpactRollup[] }) {
  return (
    <section className="card">
      <div className="card-head">
        <h2>{title}</h2>
        <TierLegend />
      </div>
      <div className="table-wrap" style={{ maxHeight: 360 }}>
        <table className="table">
          <thead>
            <tr>
              <th>Team</th>
              <th className="num">Services</th>
              <th>By tier</th>
              <th className="num">Nearest</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.ref ?? 'none'}>
                <td>{r.ref ? <EntityLink entityRef={r.ref} /> : <span className="muted">no owner</span>}</td>
                <td className="num">{r.services}</td>
                <td>
                  <TierBar byTier={r.byTier} width={110} />
                </td>
                <td className="num">{r.nearest}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** How the blast spreads: dependents per hop, with the tier-1 share of each ring. */
function ByDepth({ dependents }: { dependents: ImpactResult['dependents'] }) {
  const rings = new Map<number, { total: number; tier1: number }>();
  for (const d of dependents) {
    const r = rings.get(d.depth) ?? { total: 0, tier1: 0 };
    r.total++;
    if (d.tier === 1) r.tier1++;
    rings.set(d.depth, r);
  }
  const max = Math.max(1, ...[...rings.values()].map((r) => r.total));
  if (rings.size === 0) return null;
  return (
    <section className="card card-pad" aria-labelledby="by-depth" data-testid="impact-by-depth">
      <h2 id="by-depth">By depth</h2>
      <table className="table" style={{ maxWidth: 720 }}>
        <thead>
          <tr>
            <th className="num">Hops</th>
            <th className="num">Dependents</th>
            <th className="num">Tier 1</th>
            <th style={{ width: '50%' }}>
              <span className="sr-only">Share</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {[...rings.entries()]
            .sort((a, b) => a[0] - b[0])
            .map(([depth, r]) => (
              <tr key={depth}>
                <td className="num">{depth}</td>
                <td className="num">{r.total}</td>
                <td className="num">{r.tier1}</td>
                <td>
                  <div className="bar" aria-hidden="true">
                    <span className="t1" style={{ width: `${(100 * r.tier1) / max}%` }} />
                    <span className="tu" style={{ width: `${(100 * (r.total - r.tier1)) / max}%` }} />
                  </div>
                </td>
              </tr>
            ))}
        </tbody>
      </table>
    </section>
  );
}

/** The newest deploy in the window of a dependent, or nothing when it was not deployed. */
function ChangedCell({ change }: { change?: ChangedService }) {
  if (!change?.changed) return <span className="muted">—</span>;
  const newest = Object.values(change.last)
    .filter((d): d is NonNullable<typeof d> => d !== null)
    .sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1))[0];
  if (!newest) return <span className="badge badge-warn">changed</span>;
  return (
    <>
      <span className="badge badge-warn">changed</span> {newest.environment} {newest.version}{' '}
      <StatusBadge status={newest.status} /> {ago(newest.startedAt)} by {whoOf(newest)}
    </>
  );
}
