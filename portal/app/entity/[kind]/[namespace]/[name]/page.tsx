import type { Metadata } from 'next';
import { EntityView } from '../../../../../components/entity/entity-view';

type Params = Promise<{ kind: string; namespace: string; name: string }>;

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const { name } = await params;
  return { title: decodeURIComponent(name) };
}

export default async function EntityPage({ params }: { params: Params }) {
  const { kind, namespace, name } = await params;
  const d = (s: string) => decodeURIComponent(s);
  return (
    <EntityView key={`${kind}:${namespace}/${name}`} kind={d(kind)} namespace={d(namespace)} name={d(name)} />
  );
}
