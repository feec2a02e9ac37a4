'use client';
import type { TablePage } from '@bank/plugin-search';
import Link from 'next/link';
import { Skeleton } from '../common/feedback';
import { useApi } from '../common/use-api';

/** Counts per kind from the catalogue's facets: one small request. */
export function HomeStats() {
  const { data } = useApi<TablePage>('/api/search/catalogue?size=10');
  if (!data) return <Skeleton height={86} />;
  const kinds = data.facets.kind;
  return (
    <div
      className="grid grid-4"
      style={{ gridTemplateColumns: `repeat(${Math.min(8, kinds.length)}, minmax(0, 1fr))` }}
    >
      {kinds.map((k) => (
        <Link
          prefetch={false}
          key={k.value}
          href={`/catalogue?kind=${k.value}`}
          className="card stat"
          style={{ color: 'inherit' }}
        >
          <div className="value">{k.count.toLocaleString('en-GB')}</div>
          <div className="label">{k.value === 'component' ? 'services' : `${k.value}s`}</div>
        </Link>
      ))}
    </div>
  );
}
