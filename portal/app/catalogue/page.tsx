import type { Metadata } from 'next';
import { Suspense } from 'react';
import { CatalogueTable } from '../../components/catalogue/catalogue-table';
import { PageSkeleton } from '../../components/common/feedback';

export const metadata: Metadata = { title: 'Catalogue' };

export default function CataloguePage() {
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Catalogue</h1>
          <p>Every service, API, resource, system, team and person the portal knows about.</p>
        </div>
      </div>
      <Suspense fallback={<PageSkeleton label="the catalogue" />}>
        <CatalogueTable />
      </Suspense>
    </>
  );
}
