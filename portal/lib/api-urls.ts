import { FACETS } from '@bank/plugin-search/ui';
import { entityHref } from './refs.ts';
import {
  CATALOGUE_SCHEMA,
  type CHANGES_SCHEMA,
  IMPACT_SCHEMA,
  PATHS_SCHEMA,
  readState,
  type StateOf,
} from './url-state.ts';

/**
 * The API URL each view fetches for a given page URL. One home, so the server page can preload exactly
 * the URL the client component will fetch (the browser then reuses the preloaded answer).
 */
export const CATALOGUE_PAGE_SIZE = 50;

type Params = URLSearchParams | Record<string, string | string[] | undefined>;

export function catalogueApiUrl(state: StateOf<typeof CATALOGUE_SCHEMA>): string {
  const p = new URLSearchParams();
  for (const f of FACETS) if (state[f].length > 0) p.set(f, state[f].join(','));
  if (state.q) p.set('q', state.q);
  p.set('sort', state.sort);
  p.set('dir', state.dir);
  p.set('page', String(state.page));
  p.set('size', String(CATALOGUE_PAGE_SIZE));
  if (state.changed) {
    p.set('changed', state.changed);
    if (state.changedEnv) p.set('changedEnv', state.changedEnv);
  }
  return `/api/search/catalogue?${p.toString()}`;
}

export function pathsApiUrl(state: StateOf<typeof PATHS_SCHEMA>): string | null {
  if (!state.from || !state.to) return null;
  const via = state.via === 'any' ? '' : `&via=${state.via}`;
  return `/api/graph/paths?from=${encodeURIComponent(state.from)}&to=${encodeURIComponent(state.to)}&k=${state.k}&maxHops=${state.maxHops}${via}`;
}

/** Every observed edge with its health. */
export const TRAFFIC_EDGES_API_URL = '/api/traffic/edges';

/** Observed health of the edges between a path's hops (null when there is no path). */
export function pathTrafficApiUrl(refs: string[] | undefined): string | null {
  if (!refs || refs.length < 2) return null;
  return `/api/traffic/edges?among=${refs.map(encodeURIComponent).join(',')}`;
}

/** An entity's real callers and callees, from traces. */
export function entityTrafficApiUrl(ref: string): string {
  return `/api/traffic/edges?entity=${encodeURIComponent(ref)}`;
}

/** The change timeline of the path tracer's current path (every hop's last deploy, changed in the window). */
export function pathChangesApiUrl(state: StateOf<typeof PATHS_SCHEMA>): string | null {
  if (!state.from || !state.to) return null;
  return `/api/deploys/changes?from=${encodeURIComponent(state.from)}&to=${encodeURIComponent(state.to)}&k=${state.k}&maxHops=${state.maxHops}&since=${state.since}`;
}

/** /changes → /api/deploys/changes with the same scope; null when no scope is chosen. */
export function changesApiUrl(state: StateOf<typeof CHANGES_SCHEMA>): string | null {
  const p = new URLSearchParams();
  if (state.from && state.to) {
    p.set('from', state.from);
    p.set('to', state.to);
  } else if (state.team) p.set('team', state.team);
  else if (state.collective) p.set('collective', state.collective);
  else if (state.impact) p.set('impact', state.impact);
  else if (state.service) p.set('service', state.service);
  else return null;
  p.set('since', state.since);
  return `/api/deploys/changes?${p.toString()}`;
}

export function impactApiUrl(state: StateOf<typeof IMPACT_SCHEMA>): string | null {
  if (!state.ref) return null;
  const via = state.via === 'any' ? '' : `&via=${state.via}`;
  return `/api/graph/impact?ref=${encodeURIComponent(state.ref)}${state.depth ? `&depth=${state.depth}` : ''}${via}`;
}

export function entityApiUrl(ref: string): string {
  return `/api${entityHref(ref)}`;
}

/**
 * How many collectives and squads, worst first, the scorecards page shows before "show all": every team
 * today (~40 squads at 350 services); at 35,000 services there are thousands of squads, a 1.7 MB answer.
 */
export const SCORECARDS_TOP = 50;

/** The scorecards page's rollups (what /scorecards fetches first): the worst SCORECARDS_TOP teams of each list. */
export const SCORECARDS_SUMMARY_API_URL = `/api/scorecards/summary?top=${SCORECARDS_TOP}`;

/**
 * The rollups for `/scorecards?top=N` (a link to "the worst 10 squads"): N from 1 to 1,000, anything else
 * (absent, not a whole number) is the page's default, SCORECARDS_TOP.
 */
export function scorecardsSummaryApiUrl(top: string | null | undefined): string {
  const n = /^\d{1,4}$/.test(top ?? '') ? Number(top) : 0;
  return n >= 1 && n <= 1000 ? `/api/scorecards/summary?top=${n}` : SCORECARDS_SUMMARY_API_URL;
}

/** One scorecard's rollup with every collective and squad (the page's "show all"). */
export function scorecardsFullSummaryApiUrl(scorecard: string): string {
  return `/api/scorecards/summary?scorecard=${encodeURIComponent(scorecard)}`;
}

/** One team's services and failing checks (/scorecards?team=). */
export function scorecardsTeamApiUrl(team: string): string {
  return `/api/scorecards/team?team=${encodeURIComponent(team)}`;
}

export const ESTATE_API_URL = '/api/explorer/estate';
export const ORG_API_URL = '/api/explorer/org';

/** The API URL a page will fetch first, from its path and query; null when it fetches nothing up front. */
export function firstFetchOf(view: 'catalogue' | 'paths' | 'impact', params: Params): string | null {
  if (view === 'catalogue') return catalogueApiUrl(readState(CATALOGUE_SCHEMA, params));
  if (view === 'paths') return pathsApiUrl(readState(PATHS_SCHEMA, params));
  return impactApiUrl(readState(IMPACT_SCHEMA, params));
}
