import type { Metadata } from 'next';
import { Suspense } from 'react';
import { PageSkeleton } from '../../components/common/feedback';
import { PreloadApi } from '../../components/common/preload-api';
import { PathTracer } from '../../components/paths/path-tracer';
import { firstFetchOf } from '../../lib/api-urls.ts';

export const metadata: Metadata = { title: 'Path tracer' };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

export default async function Page({ searchParams }: { searchParams: SearchParams }) {
  const params = await searchParams;
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Path tracer</h1>
          <p>
            How calls get from one service to another: the shortest paths, every hop with its owner, on-call
            rota, tier and runbook.
          </p>
        </div>
      </div>
      <PreloadApi href={firstFetchOf('paths', params)} />
      <Suspense fallback={<PageSkeleton label="Path tracer" />}>
        <PathTracer />
      </Suspense>
    </>
  );
}
