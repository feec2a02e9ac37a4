'use client';
import type { CheckResult, EntityReport } from '@bank/plugin-scorecards';
import { ApiErrorBox, Skeleton } from '../common/feedback';
import { useApi } from '../common/use-api';

/** The entity page's scorecard card: level per scorecard, then each failing check with why, fix and the file that decides. */
export function ScorecardCard({ entityRef }: { entityRef: string }) {
  const { data, error } = useApi<EntityReport>(`/api/scorecards/entity?ref=${encodeURIComponent(entityRef)}`);
  return (
    <section className="card" aria-labelledby="scorecards-title" data-testid="scorecard-card" id="scorecards">
      <div className="card-head">
        <h2 id="scorecards-title">Production readiness</h2>
      </div>
      <div className="card-pad">
        {error && <ApiErrorBox error={error} title="Scores could not be read" />}
        {!data && !error && <Skeleton lines={3} />}
        {data && data.scorecards.length === 0 && <p className="muted small">No scorecard applies to it.</p>}
        {data?.scorecards.map((s) => (
          <div key={s.scorecard} className="stack" style={{ gap: 8 }}>
            <p data-testid="score-level">
              <strong>{s.title}</strong>: <span className="badge">{s.level ?? 'no level yet'}</span>
              {s.stale && (
                <span className="muted small"> (scorecard file has errors; last good version)</span>
              )}
              {s.next && (
                <span className="muted small">
                  {' '}
                  · {s.next.level} needs {s.next.failing.join(', ')}
                </span>
              )}
            </p>
            <ul className="stack" style={{ gap: 6, paddingLeft: 16 }}>
              {s.checks
                .filter((c) => c.status === 'fail')
                .map((c) => (
                  <FailingCheck key={c.check} check={c} />
                ))}
            </ul>
          </div>
        ))}
      </div>
    </section>
  );
}

function FailingCheck({ check: c }: { check: CheckResult }) {
  const where = c.evidence ? `${c.evidence.file}${c.evidence.line ? `:${c.evidence.line}` : ''}` : null;
  return (
    <li data-testid={`failing-${c.check}`}>
      <strong>{c.title}</strong> <span className="muted small">[{c.level ?? '-'}]</span>: {c.why}
      <div className="small">fix: {c.fix}</div>
      {where && (
        <div className="small">
          decided by{' '}
          {c.evidence?.url ? (
            <a className="mono" href={c.evidence.url} data-testid="evidence-link">
              {where}
            </a>
          ) : (
            <span className="mono">{where}</span>
          )}
          <span className="muted">
            {' '}
            (check defined at {c.definedAt.file}:{c.definedAt.line})
          </span>
        </div>
      )}
    </li>
  );
}
