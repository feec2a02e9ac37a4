'use client';
import type { ServiceDeploys, ServiceLive } from '@bank/plugin-deploys';
import Link from 'next/link';
import { ApiErrorBox, Skeleton } from '../common/feedback';
import { useApi } from '../common/use-api';
import { CompareTable } from './compare-table';
import { ago, DemoNotice, DeployTable, StatusBadge, sinceOf, whoOf } from './deploy-bits';
import { OnCallNow, useOnCall } from './on-call';

/** The entity page's deploy card: per environment what runs, since when, by whom; then the last 20 deploys. */
export function DeploysCard({ entityRef }: { entityRef: string }) {
  const { data, error } = useApi<ServiceDeploys>(
    `/api/deploys/state?service=${encodeURIComponent(entityRef)}`,
  );
  const live = useApi<ServiceLive>(`/api/deploys/live?service=${encodeURIComponent(entityRef)}`).data;
  const oncall = useOnCall([entityRef]).get(entityRef);
  return (
    <section className="card" aria-labelledby="deploys-title" data-testid="deploys-card">
      <div className="card-head">
        <h2 id="deploys-title">Deploys</h2>
        <Link
          prefetch={false}
          className="small"
          href={`/changes?service=${encodeURIComponent(entityRef)}&since=7d`}
        >
          change timeline
        </Link>
      </div>
      <div className="card-pad">
        {oncall?.rota && (
          <p className="small" style={{ marginTop: 0 }} data-testid="deploys-oncall">
            Who to call now: <OnCallNow oncall={oncall} rota={oncall.rota} />
          </p>
        )}
        {error && <ApiErrorBox error={error} title="Deploys could not be read" />}
        {!data && !error && <Skeleton lines={3} />}
        {data?.demo && <DemoNotice />}
        {data && (
          <div className="grid grid-2" style={{ marginBottom: 12 }}>
            {data.environments.map(({ environment, running, latest }) => (
              <div key={environment} className="card card-pad" data-testid={`env-${environment}`}>
                <div className="row" style={{ justifyContent: 'space-between' }}>
                  <strong>{environment}</strong>
                  {latest && <StatusBadge status={latest.status} />}
                </div>
                {!latest && <p className="muted small">not deployed yet</p>}
                {running && (
                  <p className="small" style={{ margin: '6px 0 0' }}>
                    running <span className="mono">{running.version}</span> since {ago(sinceOf(running))} (
                    {sinceOf(running).slice(0, 16).replace('T', ' ')} UTC) by {whoOf(running)}
                  </p>
                )}
                {latest && latest !== null && running?.id !== latest.id && (
                  <p className="small" style={{ margin: '6px 0 0' }}>
                    last deploy <span className="mono">{latest.version}</span>{' '}
                    {latest.status.replace('_', ' ')} {ago(latest.startedAt)} by {whoOf(latest)}
                  </p>
                )}
                {latest && !running && <p className="small muted">no successful deploy recorded</p>}
                {live?.configured && <LiveLine live={live} environment={environment} />}
                {running?.image && (
                  <p
                    className="mono muted"
                    style={{ fontSize: 11, overflowWrap: 'anywhere', margin: '4px 0 0' }}
                  >
                    {running.image}
                  </p>
                )}
              </div>
            ))}
          </div>
        )}
        {live && !live.configured && (
          <p className="small muted">Live cluster state: no cluster is watched (PORTAL_K8S_CONTEXTS).</p>
        )}
        <h3 className="small">Desired vs deployed vs live</h3>
        <CompareTable entityRef={entityRef} />
        {data && data.recent.length > 0 && <h3 className="small">Last {data.recent.length} deploys</h3>}
        {data && <DeployTable deploys={data.recent} />}
      </div>
    </section>
  );
}

/** What the cluster of one environment runs now, from the informers; "unknown since …" when it cannot be seen. */
function LiveLine({ live, environment }: { live: ServiceLive; environment: string }) {
  const env = live.environments.find((e) => e.environment === environment);
  if (!env) return <p className="small muted">live: no cluster watched for {environment}</p>;
  if (env.state !== 'live')
    return (
      <p className="small" data-testid={`live-${environment}`}>
        <span className="badge badge-warn">live state {env.state}</span> since {ago(env.since)}
        {env.error ? ` (${env.error})` : ''}
      </p>
    );
  if (env.workloads.length === 0)
    return (
      <p className="small muted">live: no Deployment labelled {live.kubernetesId ?? '(no kubernetes-id)'}</p>
    );
  return (
    <>
      {env.workloads.map((w) => (
        <p
          key={`${w.namespace}/${w.name}`}
          className="small"
          data-testid={`live-${environment}`}
          style={{ margin: '4px 0 0' }}
        >
          live {w.ready}/{w.desired} ready
          {w.rolloutComplete ? '' : ` · rolling out (${w.updated}/${w.desired} updated)`} · {w.restarts}{' '}
          restarts
          {w.crashLooping.length > 0 && (
            <span className="badge badge-danger"> crash loop: {w.crashLooping.length}</span>
          )}
        </p>
      ))}
    </>
  );
}
