import type { SummaryAnswer } from '@bank/plugin-scorecards';
import type { Metadata } from 'next';
import { headers } from 'next/headers';
import { Suspense } from 'react';
import { PageSkeleton } from '../../components/common/feedback';
import { PreloadApi } from '../../components/common/preload-api';
import { ScorecardsView } from '../../components/scorecards/scorecards-view';
import { scorecardsSummaryApiUrl, scorecardsTeamApiUrl } from '../../lib/api-urls.ts';
import { readApiOnServer } from '../../lib/server-api.ts';

export const metadata: Metadata = { title: 'Scorecards' };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

export default async function Page({ searchParams }: { searchParams: SearchParams }) {
  const { team, top } = await searchParams;
  const oneTeam = typeof team === 'string' && team !== '';
  const summaryUrl = scorecardsSummaryApiUrl(typeof top === 'string' ? top : null);
  // The rollups in the HTML itself when the API answers at once (a started portal; not during its first
  // scoring): drawn at first paint rather than after the scripts have loaded and hydrated.
  const read = oneTeam ? undefined : await readApiOnServer<SummaryAnswer>(summaryUrl, await headers());
  const summary = read ? { url: summaryUrl, data: read } : undefined;
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
      <PreloadApi href={oneTeam ? scorecardsTeamApiUrl(team) : summary ? null : summaryUrl} />
      <Suspense fallback={<PageSkeleton label="Scorecards" />}>
        <ScorecardsView summary={summary} />
      </Suspense>
    </>
  );
}
