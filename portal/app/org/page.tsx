import type { Metadata } from 'next';
import { Suspense } from 'react';
import { PageSkeleton } from '../../components/common/feedback';
import { OrgView } from '../../components/org/org-view';

export const metadata: Metadata = { title: 'Organisation' };

export default function Page() {
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Organisation</h1>
          <p>
            The bank, its collectives and squads: who owns what, how loaded each team is, and where the risks
            are.
          </p>
        </div>
      </div>
      <Suspense fallback={<PageSkeleton label="Organisation" />}>
        <OrgView />
      </Suspense>
    </>
  );
}
