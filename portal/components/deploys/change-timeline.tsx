'use client';
import type { ChangeTimeline } from '@bank/plugin-deploys';
import Link from 'next/link';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useEffect, useMemo, useState } from 'react';
import { changesApiUrl } from '../../lib/api-urls.ts';
import { entityHref, shortName } from '../../lib/refs.ts';
import { CHANGE_WINDOWS, CHANGES_SCHEMA, readState, type StateOf, writeState } from '../../lib/url-state.ts';
import { EntityLink } from '../common/entity-link';
import { ApiErrorBox, Skeleton } from '../common/feedback';
import { useApi } from '../common/use-api';
import { ago, DemoNotice, DeployTable, StatusBadge, whoOf } from './deploy-bits';
import { VersionSkewCard } from './version-skew';

type State = StateOf<typeof CHANGES_SCHEMA>;
type Scope = 'path' | 'team' | 'collective' | 'impact' | 'service';

const SCOPES: { value: Scope; label: string }[] = [
  { value: 'path', label: 'Call path' },
  { value: 'team', label: 'Squad' },
  { value: 'collective', label: 'Collective' },
  { value: 'impact', label: 'Blast radius of' },
  { value: 'service', label: 'Service' },
];

const scopeOf = (s: State): Scope =>
  s.from || s.to
    ? 'path'
    : s.team
      ? 'team'
      : s.collective
        ? 'collective'
        : s.impact
          ? 'impact'
          : s.service
            ? 'service'
            : 'path';

/** /changes: what was deployed, in a window, to the services of a path, a team, a collective or a blast radius. */
export function ChangeTimelineView() {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const state = useMemo(() => readState(CHANGES_SCHEMA, new URLSearchParams(params.toString())), [params]);
  const [scope, setScope] = useState<Scope>(scopeOf(state));
  const [a, setA] = useState('');
  const [b, setB] = useState('');
  useEffect(() => {
    const sc = scopeOf(state);
    setScope(sc);
    setA(sc === 'path' ? state.from : (state[sc] as string));
    setB(state.to);
  }, [state]);
  const go = (patch: Partial<State>) =>
    router.replace(`${pathname}${writeState(CHANGES_SCHEMA, { ...state, ...patch })}`, { scroll: false });
  const url = changesApiUrl(state);
  const { data, error, loading } = useApi<ChangeTimeline>(url);

  return (
    <div className="stack" style={{ gap: 16 }}>
      <form
        className="card card-pad row"
        style={{ alignItems: 'flex-end', gap: 12 }}
        onSubmit={(e) => {
          e.preventDefault();
          const cleared = { from: '', to: '', team: '', collective: '', impact: '', service: '' };
          go(
            scope === 'path'
              ? { ...cleared, from: a.trim(), to: b.trim() }
              : { ...cleared, [scope]: a.trim() },
          );
        }}
      >
        <label className="field">
          What
          <select className="input" value={scope} onChange={(e) => setScope(e.target.value as Scope)}>
            {SCOPES.map((s) => (
              <option key={s.value} value={s.value}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          {scope === 'path' ? 'From' : 'Name'}
          <input className="input" name="a" value={a} onChange={(e) => setA(e.target.value)} required />
        </label>
        {scope === 'path' && (
          <label className="field">
            To
            <input className="input" name="b" value={b} onChange={(e) => setB(e.target.value)} required />
          </label>
        )}
        <label className="field">
          Since
          <select
            className="input"
            name="since"
            value={state.since}
            onChange={(e) => go({ since: e.target.value })}
          >
            {CHANGE_WINDOWS.map((w) => (
              <option key={w} value={w}>
                last {w}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="btn btn-primary">
          Show changes
        </button>
      </form>
      {!url && (
        <p className="muted">
          Pick a call path (card-api → feed), a squad, a collective or a service whose blast radius to look
          at.
        </p>
      )}
      {error && <ApiErrorBox error={error} title="The change timeline could not be built" />}
      {loading && !data && <Skeleton height={180} />}
      {data && <Timeline data={data} />}
      <VersionSkewCard />
    </div>
  );
}

function Timeline({ data }: { data: ChangeTimeline }) {
  const changed = data.services.filter((s) => s.changed);
  const what =
    data.scope.kind === 'path' ? (
      <>
        the path <EntityLink entityRef={data.scope.from ?? ''} /> →{' '}
        <EntityLink entityRef={data.scope.to ?? ''} />
      </>
    ) : (
      <>
        {data.scope.kind === 'impact' ? 'the blast radius of' : `the ${data.scope.kind}`}{' '}
        <EntityLink entityRef={data.scope.ref ?? ''} />
      </>
    );
  return (
    <>
      {data.demo && <DemoNotice />}
      <section className="card" data-testid="changes" data-ready="true">
        <div className="card-head">
          <h2>
            {changed.length} of {data.services.length} services on {what} changed since{' '}
            {data.since.slice(0, 16).replace('T', ' ')} UTC
          </h2>
        </div>
        <div className="card-pad table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th>Service</th>
                <th>Owner</th>
                <th>Deploys in window</th>
                {data.environments.map((e) => (
                  <th key={e}>{e}: last deploy</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {data.services.map((s) => (
                <tr key={s.ref} data-testid="changes-service" data-changed={s.changed ? 'true' : undefined}>
                  <td>
                    <Link prefetch={false} href={entityHref(s.ref)} className="mono">
                      {s.name}
                    </Link>{' '}
                    {s.changed && <span className="badge badge-warn">changed</span>}
                  </td>
                  <td>{s.owner ? shortName(s.owner) : '—'}</td>
                  <td>{s.changes}</td>
                  {data.environments.map((e) => {
                    const d = s.last[e];
                    return (
                      <td key={e} className="small">
                        {d ? (
                          <>
                            <span className="mono">{d.version}</span> <StatusBadge status={d.status} />{' '}
                            {ago(d.startedAt)} by {whoOf(d)}
                          </>
                        ) : (
                          <span className="muted">not deployed yet</span>
                        )}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <section className="card" aria-labelledby="timeline-title" data-testid="timeline">
        <div className="card-head">
          <h2 id="timeline-title">Deploys in the window, newest first</h2>
        </div>
        <div className="card-pad">
          <DeployTable deploys={data.deploys} showService />
        </div>
      </section>
    </>
  );
}
