'use client';
import type { AuditRow, AuditVerdict } from '@bank/catalog';
import { ApiErrorBox, Skeleton } from '../common/feedback';
import { useApi } from '../common/use-api';

/** The newest 100 audit rows and the chain's verdict (GET /api/audit, /api/audit/verify: audit.read). */
export function AuditLog() {
  const log = useApi<{ items: AuditRow[] }>('/api/audit?limit=100');
  const verdict = useApi<AuditVerdict>('/api/audit/verify');
  if (log.error) return <ApiErrorBox error={log.error} title="The audit log is for admins" />;
  if (!log.data) return <Skeleton lines={8} />;
  return (
    <div className="stack" style={{ gap: 16 }}>
      {verdict.data && (
        <p className="badge" data-testid="audit-verdict">
          {verdict.data.ok
            ? `Chain intact: ${verdict.data.checked} rows`
            : `Chain broken at row ${verdict.data.broken.id}: ${verdict.data.reason}`}
        </p>
      )}
      <div className="table-wrap">
        <table className="table" data-testid="audit-table">
          <thead>
            <tr>
              <th>When</th>
              <th>Outcome</th>
              <th>Who</th>
              <th>What</th>
              <th>Target</th>
              <th>From</th>
            </tr>
          </thead>
          <tbody>
            {log.data.items.map((r) => (
              <tr key={r.id}>
                <td>{r.at.replace('T', ' ').slice(0, 19)}</td>
                <td>{r.outcome}</td>
                <td>{r.actor}</td>
                <td>{r.action}</td>
                <td>{r.target}</td>
                <td title={r.userAgent ?? ''}>{r.client ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
