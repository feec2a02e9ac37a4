'use client';
import type { EdgeHealth, ObservedEdge } from '../../lib/types.ts';

/** The window people look at: the last hour's buckets (current and previous), else the last day's. */
export function healthOf(edge: ObservedEdge): EdgeHealth {
  return edge.health['1h'].requests > 0 ? edge.health['1h'] : edge.health['1d'];
}

/** rate · errors · p99 of one observed edge, coloured by its error rate. */
export function EdgeHealthText({ edge }: { edge: ObservedEdge | undefined }) {
  if (!edge) return <span className="muted">not seen in traces</span>;
  const h = healthOf(edge);
  const pct = h.errorRate * 100;
  const tone = pct >= 5 ? 'badge-danger' : pct >= 1 ? 'badge-warn' : 'badge-ok';
  return (
    <span data-testid="edge-health">
      {h.rps < 1 ? `${h.requests} req` : `${h.rps.toFixed(1)} req/s`} ·{' '}
      <span className={`badge ${tone}`}>{pct.toFixed(pct < 10 && pct > 0 ? 1 : 0)}% errors</span> · p99{' '}
      {h.p99Ms === null ? '—' : `${h.p99Ms} ms`}
    </span>
  );
}
