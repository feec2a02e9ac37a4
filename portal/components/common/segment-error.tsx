'use client';

/** The error boundary every segment uses: a message and a retry, never a blank page. */
export function SegmentError({ error, reset, what }: { error: Error; reset: () => void; what: string }) {
  return (
    <div className="callout callout-danger" role="alert">
      <strong>{what} could not be shown</strong>
      <p style={{ margin: '4px 0 10px' }}>{error.message || 'An unexpected error happened.'}</p>
      <button type="button" className="btn" onClick={reset}>
        Try again
      </button>
    </div>
  );
}
