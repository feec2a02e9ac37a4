import Link from 'next/link';

export default function NotFound() {
  return (
    <section className="card card-pad" style={{ maxWidth: 640 }} data-testid="not-found">
      <p className="muted small" style={{ margin: 0 }}>
        404
      </p>
      <h1>This page does not exist</h1>
      <p>
        Try the{' '}
        <Link prefetch={false} href="/catalogue">
          catalogue
        </Link>
        , or press <kbd>/</kbd> and search for a service, team or person.
      </p>
    </section>
  );
}
