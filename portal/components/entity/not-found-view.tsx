import Link from 'next/link';
import { entityHref } from '../../lib/refs.ts';

/** Shown for an unknown entity URL: what was asked, and the closest names the catalogue knows. */
export function NotFoundView({ what, suggestions }: { what: string; suggestions: string[] }) {
  return (
    <section className="card card-pad" data-testid="not-found" style={{ maxWidth: 720 }}>
      <p className="muted small" style={{ margin: 0 }}>
        404
      </p>
      <h1>No entity called “{what}”</h1>
      {suggestions.length > 0 ? (
        <>
          <p>The closest names in the catalogue:</p>
          <ul className="list" data-testid="suggestions">
            {suggestions.map((s) => (
              <li key={s}>
                <Link prefetch={false} href={entityHref(s)}>
                  {s}
                </Link>
              </li>
            ))}
          </ul>
        </>
      ) : (
        <p>Nothing in the catalogue has a similar name.</p>
      )}
      <p style={{ marginBottom: 0 }}>
        <Link prefetch={false} href="/catalogue">
          Browse the catalogue
        </Link>{' '}
        or press <kbd>/</kbd> to search.
      </p>
    </section>
  );
}
