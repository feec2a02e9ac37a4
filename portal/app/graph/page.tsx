import type { Metadata } from 'next';
import { Suspense } from 'react';
import { PageSkeleton } from '../../components/common/feedback';
import { GraphExplorer } from '../../components/graph/graph-explorer';

export const metadata: Metadata = { title: 'Graph explorer' };

export default function Page() {
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Dependency graph</h1>
          <p>
            Services grouped by collective or system. Click a group to expand it, or focus on one service and
            its neighbours.
          </p>
        </div>
      </div>
      <Suspense fallback={<PageSkeleton label="Graph explorer" />}>
        <GraphExplorer />
      </Suspense>
    </>
  );
}
