import type { Metadata } from 'next';
import { Suspense } from 'react';
import { PageSkeleton } from '../../components/common/feedback';
import { PreloadApi } from '../../components/common/preload-api';
import { OrgView } from '../../components/org/org-view';
import { ORG_API_URL } from '../../lib/api-urls.ts';

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
      <PreloadApi href={ORG_API_URL} />
      <Suspense fallback={<PageSkeleton label="Organisation" />}>
        <OrgView />
      </Suspense>
    </>
  );
}
