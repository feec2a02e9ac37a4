import type { Metadata } from 'next';
import { AuditLog } from '../../components/audit/audit-log';

export const metadata: Metadata = { title: 'Audit log' };

export default function Page() {
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Audit log</h1>
          <p>
            Every write attempt, allowed or denied: who, what, when, from where. Append-only and hash-chained;
            for admins.
          </p>
        </div>
      </div>
      <AuditLog />
    </>
  );
}
