'use client';
import type { CallEdge, NodeCard, PathsResult } from '@bank/graph';
import type { ChangedService, ChangeTimeline, ServiceOnCall } from '@bank/plugin-deploys';
import type { ObservedEdge } from '@bank/plugin-traffic';
import Link from 'next/link';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useEffect, useMemo, useState } from 'react';
import { pathChangesApiUrl, pathsApiUrl, pathTrafficApiUrl } from '../../lib/api-urls.ts';
import { entityHref, shortName } from '../../lib/refs.ts';
import { CHANGE_WINDOWS, PATHS_SCHEMA, readState, type StateOf, writeState } from '../../lib/url-state.ts';
import { EntityLink } from '../common/entity-link';
import { ApiErrorBox, Skeleton } from '../common/feedback';
import { SafeLink } from '../common/safe-link';
import { TierBadge } from '../common/tier-badge';
import { useApi } from '../common/use-api';
import { ago, DemoNotice, StatusBadge, whoOf } from '../deploys/deploy-bits';
import { OnCallNow, useOnCall } from '../deploys/on-call';
import { EdgeHealthText, ErrorRateLegend, errorBand, healthOf } from '../traffic/edge-health';

type State = StateOf<typeof PATHS_SCHEMA>;

type Update = (patch: Partial<State>) => void;

/** The path tracer: the k shortest call paths between two services, each hop a card; all state in the URL. */
export function PathTracer() {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const state = useMemo(() => readState(PATHS_SCHEMA, new URLSearchParams(params.toString())), [params]);
  const update: Update = (patch) =>
    router.replace(`${pathname}${writeState(PATHS_SCHEMA, { ...state, ...patch })}`, { scroll: false });

  const url = pathsApiUrl(state);
  const { data, error, loading } = useApi<PathsResult>(url);
  const index = data ? Math.min(state.path, Math.max(1, data.paths.length)) - 1 : 0;
  const path = data?.paths[index];
  const details = usePathDetails(state, data, path);
  return (
    <div className="stack" style={{ gap: 16 }}>
      <PathQuery state={state} update={update} canCopy={Boolean(data)} />
      {!url && (
        <p className="muted">Pick two services to see how calls get from one to the other, hop by hop.</p>
      )}
      {error && <ApiErrorBox error={error} title="No paths could be traced" />}
      {loading && !data && <Skeleton height={180} />}
      {data && data.paths.length === 0 && data.unreachable && <Unreachable data={data} />}
      {data && data.paths.length > 0 && (
        <PathsCard data={data} index={index} state={state} update={update} details={details} />
      )}
    </div>
  );
}

/** What the hops of the shown path carry besides the path: deploys, observed traffic, who is on call. */
interface PathDetails {
  changes: ChangeTimeline | null;
  changedBy: Map<string, ChangedService>;
  /** null until the traffic answer is in. */
  traffic: { edges: ObservedEdge[] } | null;
  /** The busiest observed edge per `caller>callee` (summed over edge types). */
  observedBy: Map<string, ObservedEdge>;
  onCallBy: ReturnType<typeof useOnCall>;
}

/** Second answers: the paths show at once, each hop's deploys, traffic and on-call when they arrive. */
function usePathDetails(
  state: State,
  data: PathsResult | null,
  path: PathsResult['paths'][number] | undefined,
): PathDetails {
  const changes = useApi<ChangeTimeline>(
    data && data.paths.length > 0 ? pathChangesApiUrl(state) : null,
  ).data;
  const changedBy = new Map((changes?.services ?? []).map((s) => [s.ref, s]));
  // Each hop's observed health (traces), summed over edge types per caller → callee.
  const traffic = useApi<{ edges: ObservedEdge[] }>(pathTrafficApiUrl(path?.hops.map((h) => h.ref))).data;
  const observedBy = new Map<string, ObservedEdge>();
  for (const e of traffic?.edges ?? []) {
    const key = `${e.from}>${e.to}`;
    const had = observedBy.get(key);
    if (!had || e.requests > had.requests) observedBy.set(key, e);
  }
  const onCallBy = useOnCall(path?.hops.filter((h) => !h.missing).map((h) => h.ref));
  return { changes, changedBy, traffic, observedBy, onCallBy };
}

/** From, To (swappable), how many paths, how long, which edges, the change window; Trace and Copy link. */
function PathQuery({ state, update, canCopy }: { state: State; update: Update; canCopy: boolean }) {
  const [from, setFrom] = useState(state.from);
  const [to, setTo] = useState(state.to);
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    setFrom(state.from);
    setTo(state.to);
  }, [state.from, state.to]);
  return (
    <form
      className="card card-pad row"
      style={{ alignItems: 'flex-end', gap: 12 }}
      onSubmit={(e) => {
        e.preventDefault();
        update({ from: from.trim(), to: to.trim(), path: 1 });
      }}
    >
      <label className="field">
        From
        <input
          className="input"
          name="from"
          value={from}
          onChange={(e) => setFrom(e.target.value)}
          placeholder="card-api"
          required
        />
      </label>
      <button
        type="button"
        className="btn btn-ghost"
        aria-label="Swap from and to"
        title="Swap"
        onClick={() => update({ from: state.to, to: state.from, path: 1 })}
      >
        ⇄
      </button>
      <label className="field">
        To
        <input
          className="input"
          name="to"
          value={to}
          onChange={(e) => setTo(e.target.value)}
          placeholder="feed"
          required
        />
      </label>
      <label className="field">
        Paths
        <select
          className="input"
          value={state.k}
          onChange={(e) => update({ k: Number(e.target.value), path: 1 })}
        >
          {[1, 3, 5, 10].map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        Max hops
        <select
          className="input"
          value={state.maxHops}
          onChange={(e) => update({ maxHops: Number(e.target.value), path: 1 })}
        >
          {[4, 6, 8, 10, 12, 15].map((k) => (
            <option key={k} value={k}>
              {k}
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
          onChange={(e) => update({ via: e.target.value as State['via'], path: 1 })}
        >
          <option value="any">declared + observed</option>
          <option value="declared">declared only</option>
          <option value="observed">observed only (traces)</option>
        </select>
      </label>
      <label className="field">
        Changed in
        <select
          className="input"
          name="since"
          value={state.since}
          onChange={(e) => update({ since: e.target.value })}
        >
          {CHANGE_WINDOWS.map((w) => (
            <option key={w} value={w}>
              last {w}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" className="btn btn-primary">
        Trace
      </button>
      {canCopy && (
        <button
          type="button"
          className="btn"
          onClick={() => {
            navigator.clipboard?.writeText(window.location.href).then(
              () => setCopied(true),
              () => setCopied(false),
            );
            setTimeout(() => setCopied(false), 2000);
          }}
        >
          {copied ? 'Link copied' : 'Copy link'}
        </button>
      )}
    </form>
  );
}

/** The paths found: a tab per path, its summary and what changed on it, then its hops as cards. */
function PathsCard({
  data,
  index,
  state,
  update,
  details,
}: {
  data: PathsResult;
  index: number;
  state: State;
  update: Update;
  details: PathDetails;
}) {
  const path = data.paths[index];
  const { changes, traffic } = details;
  const timelineHref = `/changes?from=${encodeURIComponent(state.from)}&to=${encodeURIComponent(state.to)}&since=${state.since}`;
  return (
    <section className="card" data-testid="paths" data-ready="true">
      <div className="card-head">
        <h2>
          {data.paths.length} path{data.paths.length === 1 ? '' : 's'} from{' '}
          <EntityLink entityRef={data.from} /> to <EntityLink entityRef={data.to} />
        </h2>
        <span className="muted small">shortest first · at most {data.maxHops} hops</span>
      </div>
      <div className="card-pad">
        <div className="tabs" role="tablist" aria-label="Paths">
          {data.paths.map((p, i) => (
            <button
              key={p.hops.map((h) => h.ref).join('>')}
              type="button"
              role="tab"
              aria-selected={i === index}
              onClick={() => update({ path: i + 1 })}
            >
              Path {i + 1} · {p.length} hop{p.length === 1 ? '' : 's'}
            </button>
          ))}
        </div>
        {path && <PathSummary hops={path.hops} />}
        {changes?.demo && <DemoNotice />}
        {changes && (
          <p className="small" style={{ marginTop: 0 }} data-testid="path-changes-summary">
            {changes.services.filter((s) => s.changed).length} of {changes.services.length} services on these
            paths changed in the last {state.since}:{' '}
            <Link prefetch={false} href={timelineHref} data-testid="timeline-link">
              change timeline
            </Link>
          </p>
        )}
        {path && (
          <div className="path-row" role="tabpanel" aria-label={`Path ${index + 1}`} data-testid="path-hops">
            {path.hops.map((hop, i) => (
              <HopWithArrow
                key={hop.ref}
                hop={hop}
                edge={i > 0 ? path.edges[i - 1] : undefined}
                observed={i > 0 ? details.observedBy.get(`${path.hops[i - 1].ref}>${hop.ref}`) : undefined}
                trafficKnown={traffic !== null}
                endpoint={i === 0 || i === path.hops.length - 1}
                deploys={details.changedBy.get(hop.ref)}
                oncall={details.onCallBy.get(hop.ref)}
                environments={changes?.environments ?? []}
                since={state.since}
                timelineHref={timelineHref}
              />
            ))}
          </div>
        )}
        {path && (traffic?.edges.length ?? 0) > 0 && <ErrorRateLegend />}
      </div>
    </section>
  );
}

function PathSummary({ hops }: { hops: NodeCard[] }) {
  const owners = [...new Set(hops.map((h) => h.owner).filter((o): o is string => Boolean(o)))];
  const tier1 = hops.filter((h) => h.tier === 1).length;
  return (
    <p className="small muted" style={{ marginTop: 0 }}>
      {hops.length} services · {owners.length} owning team{owners.length === 1 ? '' : 's'} (
      {owners.map((o) => shortName(o)).join(', ')}) · {tier1} tier-1
    </p>
  );
}

function HopWithArrow({
  hop,
  edge,
  observed,
  trafficKnown,
  endpoint,
  deploys,
  oncall,
  environments,
  since,
  timelineHref,
}: {
  hop: NodeCard;
  edge?: CallEdge;
  observed?: ObservedEdge;
  trafficKnown?: boolean;
  endpoint: boolean;
  deploys?: ChangedService;
  oncall?: ServiceOnCall;
  environments: string[];
  since: string;
  timelineHref: string;
}) {
  return (
    <>
      {edge && (
        <div
          className={`hop-arrow${observed && trafficKnown ? ` errors-${errorBand(healthOf(observed).errorRate)}` : ''}`}
          data-testid="hop-arrow"
          data-error-band={observed && trafficKnown ? errorBand(healthOf(observed).errorRate) : undefined}
          aria-hidden="true"
        >
          <span>
            {edge.apis?.length
              ? shortName(edge.apis[0])
              : edge.kinds.includes('dependsOn')
                ? 'dependsOn'
                : ''}
          </span>
          <span className="line" />
          <span data-testid="hop-edge-source">
            {edge.sources.includes('observed')
              ? edge.sources.includes('declared')
                ? 'declared+seen'
                : 'seen only'
              : 'declared'}
          </span>
          {trafficKnown && (
            <span className="small" data-testid="hop-edge-health">
              <EdgeHealthText edge={observed} />
            </span>
          )}
        </div>
      )}
      <article
        className={`card hop ${endpoint ? 'endpoint' : ''}${deploys?.changed ? ' hop-changed' : ''}`}
        data-testid="hop"
        data-changed={deploys?.changed ? 'true' : undefined}
        aria-label={`Hop ${hop.name}`}
      >
        <div className="row" style={{ justifyContent: 'space-between' }}>
          <Link prefetch={false} className="hop-name" href={entityHref(hop.ref)}>
            {hop.name}
          </Link>
          <TierBadge tier={hop.tier} />
        </div>
        {hop.missing && <span className="badge badge-warn">not in the catalogue</span>}
        {deploys?.changed && (
          <Link prefetch={false} href={timelineHref} className="badge badge-warn" data-testid="hop-changed">
            changed in {since}: {deploys.changes} deploy{deploys.changes === 1 ? '' : 's'}
          </Link>
        )}
        <dl className="facts">
          <dt>Owner</dt>
          <dd data-testid="hop-owner">
            {hop.owner ? <EntityLink entityRef={hop.owner} /> : <span className="muted">none</span>}
          </dd>
          <dt>On-call</dt>
          <dd>
            <OnCallNow oncall={oncall} rota={hop.oncall} />
          </dd>
          <dt>Runbook</dt>
          <dd>{hop.runbook ? <SafeLink href={hop.runbook}>open</SafeLink> : '—'}</dd>
          <dt>Collective</dt>
          <dd>{hop.collective ? <EntityLink entityRef={hop.collective} /> : '—'}</dd>
          {deploys &&
            environments.map((env) => {
              const d = deploys.last[env];
              return [
                <dt key={`${env}-t`}>{env}</dt>,
                <dd key={`${env}-d`} className="small" data-testid={`hop-deploy-${env}`}>
                  {d ? (
                    <>
                      <span className="mono">{d.version}</span> <StatusBadge status={d.status} />{' '}
                      {ago(d.startedAt)} by {whoOf(d)}
                    </>
                  ) : (
                    <span className="muted">not deployed yet</span>
                  )}
                </dd>,
              ];
            })}
        </dl>
      </article>
    </>
  );
}

function Unreachable({ data }: { data: PathsResult }) {
  const u = data.unreachable as NonNullable<PathsResult['unreachable']>;
  return (
    <section className="card card-pad" data-testid="no-path" role="status">
      <h2>
        No path from {shortName(data.from)} to {shortName(data.to)}
      </h2>
      <p>{u.message}</p>
      <div className="grid grid-2">
        <div>
          <h3>{shortName(data.from)} reaches</h3>
          <p className="small muted">{u.fromReaches.count} services, nearest first:</p>
          <div className="row">
            {u.fromReaches.sample.map((r) => (
              <EntityLink key={r} entityRef={r} />
            ))}
          </div>
        </div>
        <div>
          <h3>What reaches {shortName(data.to)}</h3>
          <p className="small muted">{u.reachesTo.count} services, nearest first:</p>
          <div className="row">
            {u.reachesTo.sample.map((r) => (
              <EntityLink key={r} entityRef={r} />
            ))}
          </div>
        </div>
      </div>
    </section>
  );
}
