'use client';
import type { K8sAnswer } from '@bank/plugin-entity';
import { entityHref } from '../../lib/refs.ts';
import { ApiErrorBox, Skeleton } from '../common/feedback';
import { useApi } from '../common/use-api';

const fmt = (r: Record<string, string>) =>
  Object.entries(r)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || '—';

/**
 * No image yet: services scaffolded today name their repository alone (no tag, no digest) until CI builds
 * the first image; older ones carried an all-zero digest.
 */
const PLACEHOLDER_DIGEST = /@sha256:0{64}$/;
const notBuilt = (image: string) => PLACEHOLDER_DIGEST.test(image) || !/[@:][^/]*$/.test(image);

/** The desired Kubernetes state, read from the service's own manifests (bank.io/k8s-manifests). */
export function K8sCard({ entityRef }: { entityRef: string }) {
  const { data, error } = useApi<K8sAnswer>(`/api${entityHref(entityRef)}/k8s`);
  return (
    <section className="card" aria-labelledby="k8s-title">
      <div className="card-head">
        <h2 id="k8s-title">Kubernetes (desired state)</h2>
        {data?.k8s && <span className="muted small mono">{data.k8s.dir}</span>}
      </div>
      <div className="card-pad">
        {error && <ApiErrorBox error={error} title="Manifests could not be read" />}
        {!data && !error && <Skeleton lines={3} />}
        {data && data.k8s === null && (
          <p className="muted small">This entity names no manifests (bank.io/k8s-manifests).</p>
        )}
        {data?.k8s?.problems.map((p) => (
          <div key={p} className="callout callout-warn small" style={{ marginBottom: 8 }}>
            {p}
          </div>
        ))}
        {data?.k8s?.workloads.map((w) => (
          <div key={`${w.kind}/${w.name}`} style={{ marginBottom: 12 }}>
            <div className="row" style={{ marginBottom: 6 }}>
              <span className="badge">{w.kind}</span>
              <strong className="mono">{w.name}</strong>
              {w.replicas !== null && <span className="badge badge-ok">{w.replicas} replicas</span>}
              <span className="muted small">{w.file}</span>
            </div>
            <table className="table">
              <thead>
                <tr>
                  <th>Container</th>
                  <th>Image</th>
                  <th>Requests</th>
                  <th>Limits</th>
                  <th>Ports</th>
                </tr>
              </thead>
              <tbody>
                {w.containers.map((c) => (
                  <tr key={c.name}>
                    <td className="mono">{c.name}</td>
                    <td className="mono" style={{ overflowWrap: 'anywhere' }}>
                      {c.image && notBuilt(c.image) ? (
                        <>
                          {c.image.replace(PLACEHOLDER_DIGEST, '')}{' '}
                          <span className="badge" data-testid="not-deployed-yet">
                            not deployed yet
                          </span>
                        </>
                      ) : (
                        (c.image ?? '—')
                      )}
                    </td>
                    <td className="small">{fmt(c.requests)}</td>
                    <td className="small">{fmt(c.limits)}</td>
                    <td className="small">{c.ports.join(', ') || '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
        {data?.k8s && data.k8s.objects.length > 0 && (
          <p className="small muted" style={{ margin: 0 }}>
            Also declared: {data.k8s.objects.map((o) => `${o.kind} ${o.name}`).join(', ')}
          </p>
        )}
      </div>
    </section>
  );
}
