import type { EntityBundle } from '@bank/plugin-entity';
import { headers } from 'next/headers';
import { cache } from 'react';
import { apiErrorOf } from '../../../../../lib/api.ts';
import { entityApiUrl } from '../../../../../lib/api-urls.ts';
import { readApiAnswerOnServer } from '../../../../../lib/server-api.ts';

export type EntityRead =
  /** The entity's bundle, as the client would have fetched it from `url`. */
  | { found: { url: string; data: EntityBundle } }
  /** The catalogue has no such entity: the API's 404, with its closest names. */
  | { missing: { what: string; suggestions: string[] } }
  /** Not known on the server (no in-process API, too slow, another error): the client fetches it. */
  | undefined;

/** The ref an entity URL's segments name (they arrive URL-encoded). */
export async function refOf(params: Promise<{ kind: string; namespace: string; name: string }>) {
  const { kind, namespace, name } = await params;
  const d = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  return {
    ref: `${d(kind)}:${d(namespace)}/${d(name)}`.toLowerCase(),
    kind: d(kind),
    namespace: d(namespace),
    name: d(name),
  };
}

/**
 * The entity as the API answers this caller (its read rules apply), once per request: the layout and the
 * page both ask, React's cache makes it one read.
 */
export const readEntityOnServer = cache(async (ref: string): Promise<EntityRead> => {
  const url = entityApiUrl(ref);
  const answer = await readApiAnswerOnServer(url, await headers());
  if (answer?.status === 200) return { found: { url, data: answer.body as EntityBundle } };
  if (answer?.status === 404)
    return { missing: { what: ref, suggestions: apiErrorOf(answer.body, 404).suggestions } };
  return undefined;
});
