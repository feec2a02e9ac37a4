import type { Metadata } from 'next';
import { Suspense } from 'react';
import { PageSkeleton } from '../../components/common/feedback';
import { PreloadApi } from '../../components/common/preload-api';
import { ImpactView } from '../../components/impact/impact-view';
import { firstFetchOf } from '../../lib/api-urls.ts';

export const metadata: Metadata = { title: 'Impact' };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

export default async function Page({ searchParams }: { searchParams: SearchParams }) {
  const params = await searchParams;
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Blast radius</h1>
          <p>
            Everything that calls a service, directly or through others, rolled up to the teams that own it.
          </p>
        </div>
      </div>
      <PreloadApi href={firstFetchOf('impact', params)} />
      <Suspense fallback={<PageSkeleton label="Impact" />}>
        <ImpactView />
      </Suspense>
    </>
  );
}
