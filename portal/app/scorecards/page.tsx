import type { Metadata } from 'next';
import { Suspense } from 'react';
import { PageSkeleton } from '../../components/common/feedback';
import { ScorecardsView } from '../../components/scorecards/scorecards-view';

export const metadata: Metadata = { title: 'Scorecards' };

export default function Page() {
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Scorecards</h1>
          <p>
            Is each service production-ready by the bank's own standards (scorecards/*.yaml)? Pass rates by
            collective and squad, worst first; a squad's failing checks, each with why and how to fix it.
          </p>
        </div>
      </div>
      <Suspense fallback={<PageSkeleton label="Scorecards" />}>
        <ScorecardsView />
      </Suspense>
    </>
  );
}
