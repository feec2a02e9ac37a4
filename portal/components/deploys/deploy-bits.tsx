'use client';
import type { Deploy } from '@bank/plugin-deploys';

/** "5m ago", "3h ago", "2d ago": how long ago, for a person scanning a page at 3 a.m. */
export function ago(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 90) return `${s}s ago`;
  if (s < 120 * 60) return `${Math.round(s / 60)}m ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

/** When a deploy took effect: when it finished, else when it started. */
export const sinceOf = (d: Deploy) => d.finishedAt ?? d.startedAt;

export const whoOf = (d: Deploy) => d.actor ?? d.recordedBy;

const STATUS_CLASS: Record<Deploy['status'], string> = {
  started: 'badge',
  succeeded: 'badge badge-ok',
  failed: 'badge badge-danger',
  rolled_back: 'badge badge-warn',
};

export function StatusBadge({ status }: { status: Deploy['status'] }) {
  return (
    <span className={STATUS_CLASS[status]} data-testid="deploy-status">
      {status === 'rolled_back' ? 'rolled back' : status}
    </span>
  );
}

/** Said wherever generated deploy history is shown, so nobody mistakes it for real deploys. */
export function DemoNotice() {
  return (
    <div
      className="callout callout-warn small"
      role="note"
      data-testid="demo-notice"
      style={{ marginBottom: 8 }}
    >
      <strong>Demo history.</strong> These deploys were generated for the quick start; the first real deploy
      event (POST /api/deploys) replaces them.
    </div>
  );
}

/** A table of deploys, newest first. */
export function DeployTable({ deploys, showService = false }: { deploys: Deploy[]; showService?: boolean }) {
  if (deploys.length === 0) return <p className="muted small">No deploys recorded.</p>;
  return (
    <div className="table-wrap">
      <table className="table" data-testid="deploy-table">
        <thead>
          <tr>
            <th>Started</th>
            {showService && <th>Service</th>}
            <th>Env</th>
            <th>Version</th>
            <th>Status</th>
            <th>By</th>
            <th>Commit</th>
          </tr>
        </thead>
        <tbody>
          {deploys.map((d) => (
            <tr key={d.id} data-testid="deploy-row">
              <td className="small" title={d.startedAt}>
                {d.startedAt.slice(0, 16).replace('T', ' ')}{' '}
                <span className="muted">({ago(d.startedAt)})</span>
              </td>
              {showService && <td className="mono">{d.service.replace(/^component:default\//, '')}</td>}
              <td>{d.environment}</td>
              <td className="mono">{d.version}</td>
              <td>
                <StatusBadge status={d.status} />
              </td>
              <td>{whoOf(d)}</td>
              <td className="mono small">{d.commit?.slice(0, 10) ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
