'use client';
import { stringifyRef } from '@bank/catalog/model';
import type { EntityBundle } from '@bank/plugin-entity';
import Link from 'next/link';
import { entityApiUrl } from '../../lib/api-urls.ts';
import { shortName } from '../../lib/refs.ts';
import { slackHref } from '../../lib/slack.ts';
import { EntityLink } from '../common/entity-link';
import { ApiErrorBox, PageSkeleton } from '../common/feedback';
import { SafeLink } from '../common/safe-link';
import { TierBadge } from '../common/tier-badge';
import { TierBar } from '../common/tier-bar';
import { useApi } from '../common/use-api';
import { DeploysCard } from '../deploys/deploys-card';
import { ScorecardCard } from '../scorecards/scorecard-card';
import { TrafficCard } from '../traffic/traffic-card';
import { EntityList, MissingBadge } from './entity-list';
import { K8sCard } from './k8s-card';
import { NotFoundView } from './not-found-view';

const dash = <span className="muted">—</span>;

/**
 * The entity page: one request for the bundle, then sections by kind. `initial`: the bundle as the page read
 * it on the server (in the HTML at first paint); without it the bundle is fetched here.
 */
export function EntityView({
  kind,
  namespace,
  name,
  initial,
}: {
  kind: string;
  namespace: string;
  name: string;
  initial?: { url: string; data: EntityBundle };
}) {
  const ref = stringifyRef({ kind, namespace, name });
  const { data, error } = useApi<EntityBundle>(entityApiUrl(ref), initial);
  if (error?.status === 404) return <NotFoundView what={ref} suggestions={error.suggestions} />;
  if (error) return <ApiErrorBox error={error} title={`${ref} could not be loaded`} />;
  if (!data) return <PageSkeleton label={ref} />;
  const e = data.entity;
  const k = e.kind.toLowerCase();
  return (
    <article data-testid="entity-page" data-ref={data.ref}>
      <div className="crumbs">
        <Link prefetch={false} href="/catalogue">
          Catalogue
        </Link>{' '}
        /{' '}
        <Link prefetch={false} href={`/catalogue?kind=${k}`}>
          {k}
        </Link>
        {data.collective && (
          <>
            {' '}
            / <EntityLink entityRef={data.collective.ref} label={data.collective.title} />
          </>
        )}
        {data.owner && (
          <>
            {' '}
            / <EntityLink entityRef={data.owner.ref} label={data.owner.title} />
          </>
        )}
      </div>
      <div className="page-head">
        <div>
          <div className="row">
            <h1 style={{ margin: 0 }}>{data.title}</h1>
            <span className="badge kind">{k}</span>
            {data.facts.type && <span className="badge">{data.facts.type}</span>}
            <TierBadge tier={data.facts.tier} />
            {data.facts.lifecycle && (
              <span className={`badge ${data.facts.lifecycle === 'production' ? 'badge-ok' : ''}`}>
                {data.facts.lifecycle}
              </span>
            )}
          </div>
          <p className="mono small muted">{data.ref}</p>
          {e.metadata.description && (
            <p style={{ maxWidth: 820 }} data-testid="entity-description">
              {e.metadata.description}
            </p>
          )}
        </div>
        {(k === 'component' || k === 'resource') && (
          <div className="row">
            <Link
              prefetch={false}
              className="btn"
              href={`/graph?focus=${encodeURIComponent(e.metadata.name)}`}
            >
              Show in graph
            </Link>
            <Link
              prefetch={false}
              className="btn"
              href={`/impact?ref=${encodeURIComponent(e.metadata.name)}`}
            >
              Blast radius
            </Link>
            <Link
              prefetch={false}
              className="btn btn-primary"
              href={`/paths?from=${encodeURIComponent(e.metadata.name)}`}
            >
              Trace a path
            </Link>
          </div>
        )}
      </div>

      {data.stale && (
        <div className="callout callout-warn" role="status" style={{ marginBottom: 16 }}>
          <strong>Stale entry</strong>
          {data.stale}
        </div>
      )}
      <Problems
        title="Ingest errors for this entity"
        tone="danger"
        items={data.ingestErrors.filter((x) => x.severity === 'error')}
      />
      <Problems
        title="Warnings for this entity"
        tone="warn"
        items={data.ingestErrors.filter((x) => x.severity === 'warning')}
      />

      {k === 'group' && data.group ? (
        <GroupSections data={data} />
      ) : k === 'user' && data.user ? (
        <UserSections data={data} />
      ) : (
        <ComponentSections data={data} />
      )}
    </article>
  );
}

/** Stored problems of the entity's file, one callout per severity (a warning refused nothing). */
function Problems({
  title,
  tone,
  items,
}: {
  title: string;
  tone: 'danger' | 'warn';
  items: EntityBundle['ingestErrors'];
}) {
  if (items.length === 0) return null;
  return (
    <div className={`callout callout-${tone}`} role="status" style={{ marginBottom: 16 }}>
      <strong>{title}</strong>
      <ul style={{ margin: '4px 0 0', paddingLeft: 18 }}>
        {items.map((x) => (
          <li key={`${x.file}:${x.line}:${x.column}:${x.message}`} className="small">
            <span className="mono">
              {x.file}:{x.line}:{x.column}
            </span>{' '}
            {x.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

function Overview({ data }: { data: EntityBundle }) {
  const f = data.facts;
  return (
    <section className="card card-pad" aria-labelledby="overview-title">
      <h2 id="overview-title">Overview</h2>
      <dl className="facts">
        <dt>Owner</dt>
        <dd>
          {data.owner ? (
            <>
              <EntityLink entityRef={data.owner.ref} label={data.owner.title} />
              {data.owner.missing && <MissingBadge />}
            </>
          ) : (
            dash
          )}
        </dd>
        <dt>Collective</dt>
        <dd>
          {data.collective ? (
            <EntityLink entityRef={data.collective.ref} label={data.collective.title} />
          ) : (
            dash
          )}
        </dd>
        <dt>System</dt>
        <dd>
          {data.system ? (
            <>
              <EntityLink entityRef={data.system.ref} label={data.system.title} />
              {data.system.missing && <MissingBadge />}
            </>
          ) : (
            dash
          )}
        </dd>
        <dt>On-call rota</dt>
        <dd>{f.oncall ? <span className="mono">{f.oncall}</span> : dash}</dd>
        <dt>Runbook</dt>
        <dd>{f.runbook ? <SafeLink href={f.runbook} /> : dash}</dd>
        <dt>Slack</dt>
        <dd>
          {f.slack ? (
            slackHref(f.slack) ? (
              <a href={slackHref(f.slack)} target="_blank" rel="noopener noreferrer" data-testid="slack-link">
                {f.slack}
              </a>
            ) : (
              f.slack
            )
          ) : (
            dash
          )}
        </dd>
        <dt>Repository</dt>
        <dd>{f.repo ? <SafeLink href={f.repo} /> : dash}</dd>
        <dt>Tier</dt>
        <dd>{f.tier ? <TierBadge tier={f.tier} /> : dash}</dd>
        <dt>Lifecycle</dt>
        <dd>{f.lifecycle ?? dash}</dd>
        <dt>Language</dt>
        <dd>{f.language ?? dash}</dd>
        <dt>Template</dt>
        <dd>{f.template ? `${f.template}${f.templateVersion ? ` @ ${f.templateVersion}` : ''}` : dash}</dd>
        {f.serviceId && (
          <>
            <dt>Service id</dt>
            <dd className="mono">{f.serviceId}</dd>
          </>
        )}
        {(data.links.length > 0 || data.unsafeLinks > 0) && (
          <>
            <dt>Links</dt>
            <dd>
              <div className="stack" style={{ gap: 2 }}>
                {data.links.map((l) => (
                  <SafeLink key={l.url} href={l.url}>
                    {l.title}
                  </SafeLink>
                ))}
                {data.unsafeLinks > 0 && (
                  <span className="badge badge-warn" title="Only http, https and mailto links are shown">
                    {data.unsafeLinks} link{data.unsafeLinks === 1 ? '' : 's'} hidden (unsafe scheme)
                  </span>
                )}
              </div>
            </dd>
          </>
        )}
        {e(data).tags.length > 0 && (
          <>
            <dt>Tags</dt>
            <dd className="row">
              {e(data).tags.map((t) => (
                <span key={t} className="badge">
                  {t}
                </span>
              ))}
            </dd>
          </>
        )}
      </dl>
    </section>
  );
}

const e = (d: EntityBundle) => ({
  tags: Array.isArray(d.entity.metadata.tags) ? d.entity.metadata.tags.map(String) : [],
});

function ComponentSections({ data }: { data: EntityBundle }) {
  const k = data.entity.kind.toLowerCase();
  const definition = k === 'api' ? (data.entity.spec?.definition as unknown) : undefined;
  return (
    <div className="layout-main-side">
      <div className="stack" style={{ gap: 16 }}>
        {data.calls && (
          <div className="grid grid-2">
            <section className="card card-pad" aria-labelledby="deps-title" data-testid="dependencies">
              <h2 id="deps-title">Dependencies</h2>
              <p className="small muted" style={{ marginTop: 0 }}>
                Calls {data.calls.dependencies.length} directly, {data.calls.transitiveDependencies}{' '}
                transitively.
              </p>
              <EntityList
                items={data.calls.dependencies}
                empty="Calls nothing."
                extra={(i) => <ViaBadge via={(i as { via?: string[] }).via} />}
              />
            </section>
            <section className="card card-pad" aria-labelledby="dependents-title" data-testid="dependents">
              <h2 id="dependents-title">Dependents</h2>
              <p className="small muted" style={{ marginTop: 0 }}>
                Called by {data.calls.dependents.length} directly, {data.calls.transitiveDependents}{' '}
                transitively.{' '}
                <Link prefetch={false} href={`/impact?ref=${encodeURIComponent(data.entity.metadata.name)}`}>
                  See the blast radius
                </Link>
              </p>
              <EntityList items={data.calls.dependents} empty="Nothing calls it." />
            </section>
          </div>
        )}
        {(k === 'component' || k === 'api' || k === 'system') && (
          <div className="grid grid-2">
            <section className="card card-pad" aria-labelledby="apis-title">
              <h2 id="apis-title">APIs</h2>
              {k === 'api' ? (
                <>
                  <h3>Provided by</h3>
                  <EntityList items={data.apis.providers} />
                  <h3 style={{ marginTop: 12 }}>Consumed by</h3>
                  <EntityList items={data.apis.consumers} />
                </>
              ) : (
                <>
                  <h3>Provides</h3>
                  <EntityList items={data.apis.provided} />
                  <h3 style={{ marginTop: 12 }}>Consumes</h3>
                  <EntityList items={data.apis.consumed} />
                </>
              )}
            </section>
            <section className="card card-pad" aria-labelledby="resources-title">
              <h2 id="resources-title">{k === 'system' ? 'Parts' : 'Resources'}</h2>
              <EntityList items={k === 'system' ? (data.relations.hasPart ?? []) : data.resources} />
            </section>
          </div>
        )}
        {k === 'component' && <TrafficCard entityRef={data.ref} declared={declaredCalls(data)} />}
        {k === 'component' && <ScorecardCard entityRef={data.ref} />}
        {k === 'component' && <DeploysCard entityRef={data.ref} />}
        {k === 'component' && <K8sCard entityRef={data.ref} />}
        {typeof definition === 'string' && (
          <section className="card card-pad">
            <h2>Definition</h2>
            <pre
              className="mono"
              style={{ overflow: 'auto', background: 'var(--surface-2)', padding: 12, borderRadius: 6 }}
            >
              {definition}
            </pre>
          </section>
        )}
        {k !== 'component' && k !== 'api' && k !== 'system' && <Relations data={data} />}
      </div>
      <Overview data={data} />
    </div>
  );
}

/** `caller>callee` of every declared call edge into or out of this entity (observed-only ones excluded). */
function declaredCalls(data: EntityBundle): Set<string> {
  const out = new Set<string>();
  const declared = (i: unknown) =>
    ((i as { sources?: string[] }).sources ?? ['declared']).includes('declared');
  for (const d of data.calls?.dependencies ?? []) if (declared(d)) out.add(`${data.ref}>${d.ref}`);
  for (const d of data.calls?.dependents ?? []) if (declared(d)) out.add(`${d.ref}>${data.ref}`);
  return out;
}

function ViaBadge({ via }: { via?: string[] }) {
  if (!via || via.length === 0) return null;
  const apis = via.filter((v) => v !== 'dependsOn');
  return (
    <span className="muted small">
      {apis.length > 0 ? `via ${apis.map((a) => shortName(a)).join(', ')}` : 'dependsOn'}
    </span>
  );
}

function Relations({ data }: { data: EntityBundle }) {
  const entries = Object.entries(data.relations);
  return (
    <section className="card card-pad">
      <h2>Relations</h2>
      {entries.length === 0 && <p className="muted">No relations.</p>}
      {entries.map(([type, items]) => (
        <div key={type} style={{ marginBottom: 10 }}>
          <h3>{type}</h3>
          <EntityList items={items} />
        </div>
      ))}
    </section>
  );
}

function GroupSections({ data }: { data: EntityBundle }) {
  const g = data.group as NonNullable<EntityBundle['group']>;
  return (
    <div className="layout-main-side">
      <div className="stack" style={{ gap: 16 }}>
        <div className="grid grid-3">
          <div className="card stat">
            <div className="value">{g.members.length}</div>
            <div className="label">direct members</div>
          </div>
          <div className="card stat">
            <div className="value">{g.servicesBelow}</div>
            <div className="label">services owned here and below</div>
          </div>
          <div className="card stat">
            <div className="value">{g.children.length}</div>
            <div className="label">sub-teams</div>
          </div>
        </div>
        {g.children.length > 0 && (
          <section className="card card-pad" aria-labelledby="subteams-title">
            <h2 id="subteams-title">Sub-teams</h2>
            <EntityList items={g.children} max={100} />
          </section>
        )}
        <section className="card card-pad" aria-labelledby="owned-title" data-testid="owned-services">
          <h2 id="owned-title">Owns</h2>
          <EntityList items={g.owned} max={200} empty="This group owns nothing directly." />
        </section>
      </div>
      <div className="stack" style={{ gap: 16 }}>
        <section className="card card-pad" aria-labelledby="group-facts">
          <h2 id="group-facts">Team</h2>
          <dl className="facts">
            <dt>Type</dt>
            <dd>{g.type ?? dash}</dd>
            <dt>Part of</dt>
            <dd>{g.parent ? <EntityLink entityRef={g.parent.ref} label={g.parent.title} /> : dash}</dd>
            <dt>Email</dt>
            <dd>{g.email ? <SafeLink href={`mailto:${g.email}`}>{g.email}</SafeLink> : dash}</dd>
            <dt>Services by tier</dt>
            <dd>
              <TierBar byTier={g.servicesByTier} />
            </dd>
          </dl>
          <div className="row" style={{ marginTop: 12 }}>
            <Link
              prefetch={false}
              className="btn"
              href={`/org?squad=${encodeURIComponent(data.entity.metadata.name)}`}
            >
              Open in org view
            </Link>
            <Link prefetch={false} className="btn" href={`/catalogue?owner=${encodeURIComponent(data.ref)}`}>
              In the catalogue
            </Link>
          </div>
        </section>
        <section className="card card-pad" aria-labelledby="members-title" data-testid="members">
          <h2 id="members-title">Members</h2>
          <EntityList items={g.members} max={100} empty="No direct members." />
        </section>
      </div>
    </div>
  );
}

function UserSections({ data }: { data: EntityBundle }) {
  const u = data.user as NonNullable<EntityBundle['user']>;
  return (
    <div className="layout-main-side">
      <section className="card card-pad" aria-labelledby="user-owned">
        <h2 id="user-owned">Services of their teams</h2>
        <EntityList items={u.owned} max={100} empty="Their teams own no services." />
      </section>
      <section className="card card-pad" aria-labelledby="user-facts">
        <h2 id="user-facts">Person</h2>
        <dl className="facts">
          <dt>Email</dt>
          <dd>{u.email ? <SafeLink href={`mailto:${u.email}`}>{u.email}</SafeLink> : dash}</dd>
          <dt>Teams</dt>
          <dd>
            <div className="stack" style={{ gap: 2 }}>
              {u.memberOf.map((g) => (
                <EntityLink key={g.ref} entityRef={g.ref} label={g.title} />
              ))}
              {u.memberOf.length === 0 && dash}
            </div>
          </dd>
        </dl>
      </section>
    </div>
  );
}
