import type { Metadata } from 'next';
import { Suspense } from 'react';
import { PageSkeleton } from '../../components/common/feedback';
import { PreloadApi } from '../../components/common/preload-api';
import { ScorecardsView } from '../../components/scorecards/scorecards-view';
import { SCORECARDS_SUMMARY_API_URL, scorecardsTeamApiUrl } from '../../lib/api-urls.ts';

export const metadata: Metadata = { title: 'Scorecards' };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

export default async function Page({ searchParams }: { searchParams: SearchParams }) {
  const { team } = await searchParams;
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
      <PreloadApi
        href={typeof team === 'string' && team ? scorecardsTeamApiUrl(team) : SCORECARDS_SUMMARY_API_URL}
      />
      <Suspense fallback={<PageSkeleton label="Scorecards" />}>
        <ScorecardsView />
      </Suspense>
    </>
  );
}
