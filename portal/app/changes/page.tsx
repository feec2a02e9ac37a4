import type { Metadata } from 'next';
import { Suspense } from 'react';
import { PageSkeleton } from '../../components/common/feedback';
import { ChangeTimelineView } from '../../components/deploys/change-timeline';

export const metadata: Metadata = { title: 'What changed' };

export default function Page() {
  return (
    <>
      <div className="page-head">
        <div>
          <h1>What changed</h1>
          <p>
            Deploys to the services of a call path, a squad, a collective or a blast radius: who deployed
            what, when, to which environment.
          </p>
        </div>
      </div>
      <Suspense fallback={<PageSkeleton label="What changed" />}>
        <ChangeTimelineView />
      </Suspense>
    </>
  );
}
