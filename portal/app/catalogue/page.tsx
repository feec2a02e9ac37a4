import type { Metadata } from 'next';
import { Suspense } from 'react';
import { CatalogueTable } from '../../components/catalogue/catalogue-table';
import { PageSkeleton } from '../../components/common/feedback';
import { PreloadApi } from '../../components/common/preload-api';
import { firstFetchOf } from '../../lib/api-urls.ts';

export const metadata: Metadata = { title: 'Catalogue' };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

export default async function CataloguePage({ searchParams }: { searchParams: SearchParams }) {
  const params = await searchParams;
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Catalogue</h1>
          <p>Every service, API, resource, system, team and person the portal knows about.</p>
        </div>
      </div>
      <PreloadApi href={firstFetchOf('catalogue', params)} />
      <Suspense fallback={<PageSkeleton label="the catalogue" />}>
        <CatalogueTable />
      </Suspense>
    </>
  );
}
