'use client';
import type { ObservedEdge } from '@bank/plugin-traffic';
import { entityTrafficApiUrl } from '../../lib/api-urls.ts';
import { EntityLink } from '../common/entity-link';
import { ApiErrorBox, Skeleton } from '../common/feedback';
import { useApi } from '../common/use-api';
import { EdgeHealthText } from './edge-health';

/**
 * The entity page's real callers and callees, from traces: each with its health (rate, errors, p99) and
 * whether the descriptors declare the call at all.
 */
export function TrafficCard({ entityRef, declared }: { entityRef: string; declared: Set<string> }) {
  const { data, error } = useApi<{ edges: ObservedEdge[] }>(entityTrafficApiUrl(entityRef));
  const callers = (data?.edges ?? []).filter((e) => e.to === entityRef && e.from !== entityRef);
  const callees = (data?.edges ?? []).filter((e) => e.from === entityRef && e.to !== entityRef);
  return (
    <section className="card" aria-labelledby="traffic-title" data-testid="traffic-card">
      <div className="card-head">
        <h2 id="traffic-title">Observed traffic</h2>
        <span className="muted small">from traces (OTLP) · last hour</span>
      </div>
      <div className="card-pad">
        {error && <ApiErrorBox error={error} title="Observed traffic could not be read" />}
        {!data && !error && <Skeleton lines={2} />}
        {data && callers.length + callees.length === 0 && (
          <p className="muted small" style={{ margin: 0 }}>
            No calls to or from this service seen in traces yet.
          </p>
        )}
        {data && callers.length + callees.length > 0 && (
          <div className="grid grid-2">
            <EdgeList
              title="Callers"
              testId="traffic-callers"
              edges={callers}
              side="from"
              declared={declared}
            />
            <EdgeList
              title="Callees"
              testId="traffic-callees"
              edges={callees}
              side="to"
              declared={declared}
            />
          </div>
        )}
      </div>
    </section>
  );
}

function EdgeList({
  title,
  testId,
  edges,
  side,
  declared,
}: {
  title: string;
  testId: string;
  edges: ObservedEdge[];
  side: 'from' | 'to';
  declared: Set<string>;
}) {
  return (
    <div>
      <h3 style={{ marginTop: 0 }}>{title}</h3>
      {edges.length === 0 && <p className="muted small">none seen</p>}
      <ul style={{ listStyle: 'none', padding: 0, margin: 0 }} data-testid={testId}>
        {edges.map((e) => (
          <li key={`${e.from}>${e.to}>${e.type}`} data-testid="traffic-edge" className="small">
            <EntityLink entityRef={side === 'from' ? e.from : e.to} />{' '}
            {e.unknown && <span className="badge badge-warn">not in the catalogue</span>}{' '}
            {!declared.has(`${e.from}>${e.to}`) && !e.unknown && (
              <span className="badge badge-warn" data-testid="undeclared">
                undeclared
              </span>
            )}
            <div>
              <EdgeHealthText edge={e} />
            </div>
          </li>
        ))}
      </ul>
    </div>
  );
}
