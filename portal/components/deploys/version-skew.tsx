'use client';
import type { VersionSkew } from '@bank/plugin-deploys';
import Link from 'next/link';
import { useState } from 'react';
import { entityHref, shortName } from '../../lib/refs.ts';
import { ApiErrorBox, Skeleton } from '../common/feedback';
import { useApi } from '../common/use-api';
import { ago } from './deploy-bits';

const DAYS = [7, 14, 30, 90];

/**
 * Version skew (GET /api/deploys/skew, `portal deploys skew`): services whose prod version is older than N
 * days or more than one release behind staging.
 */
export function VersionSkewCard() {
  const [days, setDays] = useState(30);
  const { data, error, loading } = useApi<VersionSkew>(`/api/deploys/skew?days=${days}`);
  const [first, last] = data?.environments ?? ['staging', 'prod'];
  return (
    <section
      className="card"
      aria-labelledby="skew-title"
      data-testid="skew"
      data-ready={data && !loading ? 'true' : 'false'}
    >
      <div className="card-head">
        <h2 id="skew-title">
          Version skew: {last} older than {days} days or more than one release behind {first}
        </h2>
        <label className="small">
          older than{' '}
          <select
            className="input"
            aria-label="Older than (days)"
            value={days}
            onChange={(e) => setDays(Number(e.target.value))}
          >
            {DAYS.map((d) => (
              <option key={d} value={d}>
                {d} days
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="card-pad">
        {error && <ApiErrorBox error={error} title="Version skew could not be read" />}
        {!data && !error && <Skeleton lines={3} />}
        {data && data.services.length === 0 && <p className="muted small">No service is behind.</p>}
        {data && data.services.length > 0 && (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th>Service</th>
                  <th>{first}</th>
                  <th>{last}</th>
                  <th>{last} since</th>
                  <th>Why</th>
                </tr>
              </thead>
              <tbody>
                {data.services.map((s) => (
                  <tr key={s.service} data-testid="skew-row">
                    <td>
                      <Link prefetch={false} href={entityHref(s.service)} className="mono">
                        {shortName(s.service)}
                      </Link>
                    </td>
                    <td className="mono">{s.staging ?? '—'}</td>
                    <td className="mono">{s.prod ?? '—'}</td>
                    <td className="small">{s.prodSince ? ago(s.prodSince) : '—'}</td>
                    <td className="small">
                      {s.stale && <span className="badge badge-warn">older than {data.olderThanDays}d</span>}{' '}
                      {s.behind && (
                        <span className="badge badge-danger">{s.releasesBehind} releases behind</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
    </section>
  );
}
