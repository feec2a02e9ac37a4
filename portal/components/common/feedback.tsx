import Link from 'next/link';
import type { ApiError } from '../../lib/api.ts';
import { entityHref } from '../../lib/refs.ts';

/** An API error as a message a person can act on, with the closest names when the server offers them. */
export function ApiErrorBox({ error, title = 'Something went wrong' }: { error: ApiError; title?: string }) {
  return (
    <div className="callout callout-danger" role="alert">
      <strong>{title}</strong>
      <span>{error.message}</span>
      {error.suggestions.length > 0 && (
        <div className="row" style={{ marginTop: 8 }}>
          <span className="muted">Did you mean:</span>
          {error.suggestions.map((s) => (
            <Link prefetch={false} key={s} href={entityHref(s)} className="badge">
              {s}
            </Link>
          ))}
        </div>
      )}
    </div>
  );
}

const WIDTHS = [90, 73, 86, 69, 82, 65, 78, 91, 74, 87, 70, 83];

export function Skeleton({ lines = 4, height }: { lines?: number; height?: number }) {
  if (height) return <div className="skeleton" style={{ height }} aria-hidden="true" />;
  return (
    <div aria-hidden="true">
      {WIDTHS.slice(0, lines).map((w, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: placeholders without identity
        <div key={i} className="skeleton skeleton-line" style={{ width: `${w}%` }} />
      ))}
    </div>
  );
}

export function PageSkeleton({ label }: { label: string }) {
  return (
    <div aria-busy="true" aria-live="polite">
      <span className="sr-only">Loading {label}…</span>
      <div className="skeleton" style={{ height: 28, width: 280, marginBottom: 18 }} />
      <div className="card card-pad">
        <Skeleton lines={8} />
      </div>
    </div>
  );
}
