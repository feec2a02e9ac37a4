import type { Metadata } from 'next';
import { Suspense } from 'react';
import { PageSkeleton } from '../../components/common/feedback';
import { ImpactView } from '../../components/impact/impact-view';

export const metadata: Metadata = { title: 'Impact' };

export default function Page() {
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
      <Suspense fallback={<PageSkeleton label="Impact" />}>
        <ImpactView />
      </Suspense>
    </>
  );
}
