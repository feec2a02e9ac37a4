'use client';
import type { EntityBundle, EntitySummary } from '@bank/plugin-entity';
import type { OrgChart, OrgSquad } from '@bank/plugin-explorer';
import Link from 'next/link';
import { entityHref, shortName } from '../../lib/refs.ts';
import { EntityLink } from '../common/entity-link';
import { ApiErrorBox, Skeleton } from '../common/feedback';
import { TierBar } from '../common/tier-bar';
import { useApi } from '../common/use-api';
import { EntityList } from '../entity/entity-list';

/**
 * Why a squad counts 0 services: the count is the Components whose spec.owner is the squad, and squads that
 * run the platform itself (clusters, pipelines) often own none in the catalogue.
 */
export function noServices(squad: { title: string; ref: string }, owned: EntitySummary[]): string {
  const other = owned.filter((o) => o.kind !== 'component');
  const kinds = [...new Set(other.map((o) => o.kind))].join(', ');
  return (
    `0 services: no Component names ${squad.title} as its owner (spec.owner: ${squad.ref}), and services ` +
    `are what the count and the load figures are made of. ${other.length ? `It owns ${other.length} other entities (${kinds}), which are not services. ` : ''}` +
    'Squads that run the platform itself often own none; describe what it runs as Components or Resources ' +
    `owned by ${squad.ref} to see it here.`
  );
}

/** One squad, drilled into from the org view: people, services, and who it is coupled to. */
export function SquadPanel({ squad, chart }: { squad: OrgSquad; chart: OrgChart }) {
  const { data, error } = useApi<EntityBundle>(`/api${entityHref(squad.ref)}`);
  const out = chart.ownership.coupling.filter((c) => c.from === squad.ref).slice(0, 10);
  const inn = chart.ownership.coupling.filter((c) => c.to === squad.ref).slice(0, 10);
  const inversions = chart.ownership.tierInversions.filter(
    (t) => t.fromOwner === squad.ref || t.toOwner === squad.ref,
  );
  return (
    <div className="stack" style={{ gap: 16 }} data-testid="squad-panel">
      <div className="page-head" style={{ marginBottom: 0 }}>
        <div>
          <h2 style={{ fontSize: 22 }}>{squad.title}</h2>
          <p className="muted small">{squad.ref}</p>
        </div>
        <div className="row" style={{ gap: 8 }}>
          <Link
            prefetch={false}
            className="btn"
            href={`/scorecards?team=${encodeURIComponent(squad.ref)}`}
            data-testid="squad-scorecards"
          >
            Production readiness
          </Link>
          <Link prefetch={false} className="btn btn-primary" href={entityHref(squad.ref)}>
            Open team page
          </Link>
        </div>
      </div>
      <div className="grid grid-4">
        <div className="card stat">
          <div className="value">{squad.members}</div>
          <div className="label">engineers</div>
        </div>
        <div className="card stat">
          <div className="value">{squad.services}</div>
          <div className="label">services</div>
        </div>
        <div className="card stat">
          <div className="value">{squad.members ? (squad.services / squad.members).toFixed(1) : '∞'}</div>
          <div className="label">services per engineer</div>
        </div>
        <div className="card stat">
          <div className="value">{inversions.length}</div>
          <div className="label">tier inversions involved</div>
        </div>
      </div>
      <section className="card card-pad">
        <h3>Services by tier</h3>
        <TierBar byTier={squad.byTier} width={320} />
      </section>
      {error && <ApiErrorBox error={error} />}
      <div className="grid grid-2">
        <section className="card card-pad" aria-labelledby="squad-members">
          <h2 id="squad-members">People</h2>
          {data?.group ? (
            <EntityList items={data.group.members} max={60} empty="No members: its services are orphaned." />
          ) : (
            <Skeleton />
          )}
        </section>
        <section className="card card-pad" aria-labelledby="squad-services">
          <h2 id="squad-services">Services</h2>
          {data?.group ? (
            <EntityList
              items={data.group.owned.filter((o) => o.kind === 'component')}
              max={60}
              empty={noServices(squad, data.group.owned)}
            />
          ) : (
            <Skeleton />
          )}
        </section>
      </div>
      <div className="grid grid-2">
        <section className="card card-pad">
          <h2>Calls out to</h2>
          <ul className="list">
            {out.map((c) => (
              <li key={c.to}>
                <span className="grow">
                  <EntityLink entityRef={c.to} />
                </span>
                <span className="muted small">{c.calls} calls</span>
              </li>
            ))}
            {out.length === 0 && <li className="muted small">No calls to other squads.</li>}
          </ul>
        </section>
        <section className="card card-pad">
          <h2>Called by</h2>
          <ul className="list">
            {inn.map((c) => (
              <li key={c.from}>
                <span className="grow">
                  <EntityLink entityRef={c.from} />
                </span>
                <span className="muted small">{c.calls} calls</span>
              </li>
            ))}
            {inn.length === 0 && <li className="muted small">No other squad calls it.</li>}
          </ul>
        </section>
      </div>
      {inversions.length > 0 && (
        <section className="card card-pad">
          <h2>Tier inversions</h2>
          <ul className="list">
            {inversions.map((t) => (
              <li key={`${t.from}>${t.to}`}>
                {shortName(t.from)} (T{t.fromTier}) → {shortName(t.to)} (T{t.toTier})
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}
