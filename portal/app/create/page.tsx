import type { Metadata } from 'next';
import { TemplateGallery } from '../../components/scaffolder/template-gallery';

export const metadata: Metadata = { title: 'Create a service' };

export default function CreatePage() {
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Create a service</h1>
          <p>
            Pick a template. You get a service that builds, passes its tests, calls its dependencies through
            @bank/rpc, is in the catalogue and ships production Kubernetes manifests. Preview everything
            before anything is written.
          </p>
        </div>
      </div>
      <TemplateGallery />
    </>
  );
}
