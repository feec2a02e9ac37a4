import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { PreloadApi } from '../../../../../components/common/preload-api';
import { EntityView } from '../../../../../components/entity/entity-view';
import { entityApiUrl } from '../../../../../lib/api-urls.ts';
import { readEntityOnServer, refOf } from './read-entity.ts';

type Params = Promise<{ kind: string; namespace: string; name: string }>;

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const { name } = await refOf(params);
  return { title: name };
}

/**
 * The entity is read on the server: drawn at first paint, and an unknown ref is a 404 from the page itself
 * (notFound(): not-found.tsx shows the closest names). No loading.tsx here on purpose: a loading boundary
 * streams a 200 before the page could decide. When the API does not answer in time the page renders
 * without the entity and the client fetches it, as before (then an unknown ref shows the same view, with 200).
 */
export default async function EntityPage({ params }: { params: Params }) {
  const { ref, kind, namespace, name } = await refOf(params);
  const read = await readEntityOnServer(ref);
  if (read && 'missing' in read) notFound();
  const initial = read?.found;
  return (
    <>
      <PreloadApi href={initial ? null : entityApiUrl(ref)} />
      <EntityView key={ref} kind={kind} namespace={namespace} name={name} initial={initial} />
    </>
  );
}
