import type { Metadata } from 'next';
import { PreloadApi } from '../../../../../components/common/preload-api';
import { EntityView } from '../../../../../components/entity/entity-view';
import { entityApiUrl } from '../../../../../lib/api-urls.ts';

type Params = Promise<{ kind: string; namespace: string; name: string }>;

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const { name } = await params;
  return { title: decodeURIComponent(name) };
}

export default async function EntityPage({ params }: { params: Params }) {
  const { kind, namespace, name } = await params;
  const d = (s: string) => decodeURIComponent(s);
  const ref = `${d(kind)}:${d(namespace)}/${d(name)}`.toLowerCase();
  return (
    <>
      <PreloadApi href={entityApiUrl(ref)} />
      <EntityView key={ref} kind={d(kind)} namespace={d(namespace)} name={d(name)} />
    </>
  );
}
