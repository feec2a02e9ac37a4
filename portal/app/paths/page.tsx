import type { Metadata } from 'next';
import { Suspense } from 'react';
import { PageSkeleton } from '../../components/common/feedback';
import { PathTracer } from '../../components/paths/path-tracer';

export const metadata: Metadata = { title: 'Path tracer' };

export default function Page() {
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
      <Suspense fallback={<PageSkeleton label="Path tracer" />}>
        <PathTracer />
      </Suspense>
    </>
  );
}
