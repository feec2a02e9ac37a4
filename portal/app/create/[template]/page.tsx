import type { Metadata } from 'next';
import Link from 'next/link';
import { ScaffoldForm } from '../../../components/scaffolder/scaffold-form';

type Params = Promise<{ template: string }>;

export async function generateMetadata({ params }: { params: Params }): Promise<Metadata> {
  const { template } = await params;
  return { title: `Create from ${decodeURIComponent(template)}` };
}

export default async function CreateFromTemplatePage({ params }: { params: Params }) {
  const { template } = await params;
  const name = decodeURIComponent(template);
  return (
    <>
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link href="/create">Create</Link> / <span>{name}</span>
      </nav>
      <ScaffoldForm key={name} template={name} />
    </>
  );
}
