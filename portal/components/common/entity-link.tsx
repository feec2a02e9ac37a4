import Link from 'next/link';
import { entityHref, shortName } from '../../lib/refs.ts';

export function EntityLink({
  entityRef,
  label,
}: {
  entityRef: string | null | undefined;
  label?: string | null;
}) {
  if (!entityRef) return <span className="muted">—</span>;
  return (
    <Link prefetch={false} href={entityHref(entityRef)} title={entityRef}>
      {label || shortName(entityRef)}
    </Link>
  );
}
