'use client';
import Link from 'next/link';
import { ApiErrorBox, Skeleton } from '../common/feedback';
import { useApi } from '../common/use-api';
import type { TemplateInfo } from './api';

/** The template gallery: every template in templates/, with what it makes and what it asks for. */
export function TemplateGallery() {
  const { data, error, loading } = useApi<{ items: TemplateInfo[]; errors: { message: string }[] }>(
    '/api/scaffolder/templates',
  );
  if (error) return <ApiErrorBox error={error} title="The templates could not be loaded" />;
  if (loading || !data) return <Skeleton lines={6} />;
  return (
    <div className="stack" style={{ gap: 16 }}>
      <div className="grid grid-3" data-testid="template-gallery">
        {data.items.map((t) => {
          const required = new Set(t.parameters.flatMap((p) => p.required ?? []));
          return (
            <article key={t.name} className="card card-pad stack" data-testid={`template-${t.name}`}>
              <div className="row" style={{ justifyContent: 'space-between' }}>
                <h2 style={{ margin: 0 }}>{t.title}</h2>
                <span className="badge" title="template version">
                  v{t.version}
                </span>
              </div>
              <p className="muted" style={{ margin: 0 }}>
                {t.description}
              </p>
              <div className="row">
                {t.tags.map((tag) => (
                  <span key={tag} className="badge">
                    {tag}
                  </span>
                ))}
              </div>
              <p className="small muted" style={{ margin: 0 }}>
                Asks for:{' '}
                {t.parameters
                  .flatMap((p) => Object.keys(p.properties))
                  .map((k) => (required.has(k) ? `${k}*` : k))
                  .join(', ')}
              </p>
              <div>
                <Link className="btn btn-primary" href={`/create/${encodeURIComponent(t.name)}`}>
                  Choose
                </Link>
              </div>
            </article>
          );
        })}
      </div>
      {data.errors.length > 0 && (
        <div className="callout callout-warn" role="status">
          <strong>Templates that did not load</strong>
          <ul>
            {data.errors.map((e) => (
              <li key={e.message} className="mono small">
                {e.message}
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
