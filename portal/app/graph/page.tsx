import type { Metadata } from 'next';
import { Suspense } from 'react';
import { PageSkeleton } from '../../components/common/feedback';
import { PreloadApi } from '../../components/common/preload-api';
import { GraphExplorer } from '../../components/graph/graph-explorer';
import { ESTATE_API_URL } from '../../lib/api-urls.ts';

export const metadata: Metadata = { title: 'Graph explorer' };

export default function Page() {
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Dependency graph</h1>
          <p>
            The estate by collective, callers on the left. Pick a team to see its services and their direct
            neighbours, or focus on one service and the services within a few hops of it.
          </p>
        </div>
      </div>
      <PreloadApi href={ESTATE_API_URL} />
      <Suspense fallback={<PageSkeleton label="Graph explorer" />}>
        <GraphExplorer />
      </Suspense>
    </>
  );
}
