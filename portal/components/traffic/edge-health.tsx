'use client';
import type { EdgeHealth, ObservedEdge } from '@bank/plugin-traffic';

/** The window people look at: the last hour's buckets (current and previous), else the last day's. */
export function healthOf(edge: ObservedEdge): EdgeHealth {
  return edge.health['1h'].requests > 0 ? edge.health['1h'] : edge.health['1d'];
}

/**
 * Error-rate bands, one home for every view that colours an observed edge (graph explorer, path tracer,
 * entity page): 5 % and more is failing (the error colour), 1 % and more is degraded (a paler error colour).
 */
export const ERROR_RATE = { failing: 0.05, degraded: 0.01 } as const;
export type ErrorBand = 'failing' | 'degraded' | 'healthy';

export function errorBand(rate: number): ErrorBand {
  return rate >= ERROR_RATE.failing ? 'failing' : rate >= ERROR_RATE.degraded ? 'degraded' : 'healthy';
}

/**
 * Error rate per caller → callee over the window people look at, summed over the edge types (an edge can be
 * rpc and async at once); keyed `${from}>${to}` by ref.
 */
export function errorRatesOf(
  edges: readonly ObservedEdge[],
): Map<string, { requests: number; errorRate: number }> {
  const sums = new Map<string, { requests: number; errors: number }>();
  for (const e of edges) {
    const h = healthOf(e);
    const key = `${e.from}>${e.to}`;
    const had = sums.get(key) ?? { requests: 0, errors: 0 };
    had.requests += h.requests;
    had.errors += h.errors;
    sums.set(key, had);
  }
  const out = new Map<string, { requests: number; errorRate: number }>();
  for (const [key, s] of sums)
    if (s.requests > 0) out.set(key, { requests: s.requests, errorRate: s.errors / s.requests });
  return out;
}

/** What the edge colours mean (the thresholds above, said once). */
export function ErrorRateLegend() {
  return (
    <span className="legend" data-testid="error-rate-legend">
      <span style={{ color: 'var(--danger)', fontWeight: 600 }}>
        ━ ≥ {ERROR_RATE.failing * 100}% errors (last hour)
      </span>
      <span style={{ color: 'var(--danger)', opacity: 0.6 }}>
        ━ {ERROR_RATE.degraded * 100}–{ERROR_RATE.failing * 100}% errors
      </span>
    </span>
  );
}

/** rate · errors · p99 of one observed edge, coloured by its error rate. */
export function EdgeHealthText({ edge }: { edge: ObservedEdge | undefined }) {
  if (!edge) return <span className="muted">not seen in traces</span>;
  const h = healthOf(edge);
  const pct = h.errorRate * 100;
  const band = errorBand(h.errorRate);
  const tone = band === 'failing' ? 'badge-danger' : band === 'degraded' ? 'badge-warn' : 'badge-ok';
  return (
    <span data-testid="edge-health">
      {h.rps < 1 ? `${h.requests} req` : `${h.rps.toFixed(1)} req/s`} ·{' '}
      <span className={`badge ${tone}`}>{pct.toFixed(pct < 10 && pct > 0 ? 1 : 0)}% errors</span> · p99{' '}
      {h.p99Ms === null ? '—' : `${h.p99Ms} ms`}
    </span>
  );
}
