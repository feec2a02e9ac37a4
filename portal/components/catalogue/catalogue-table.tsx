'use client';
import { type CatalogueRow, FACETS, type Facet, type TablePage } from '@bank/plugin-search/ui';
import Link from 'next/link';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useEffect, useMemo, useRef, useState } from 'react';
import { catalogueApiUrl } from '../../lib/api-urls.ts';
import { entityHref, shortName } from '../../lib/refs.ts';
import { CATALOGUE_SCHEMA, readState, type StateOf, writeState } from '../../lib/url-state.ts';
import { EntityLink } from '../common/entity-link';
import { ApiErrorBox, Skeleton } from '../common/feedback';
import { TierBadge } from '../common/tier-badge';
import { type ApiState, useApi } from '../common/use-api';
import { ago } from '../deploys/deploy-bits';

type State = StateOf<typeof CATALOGUE_SCHEMA>;
const FACET_PREVIEW = 8;
/** Fixed column widths: the browser lays out 50 rows without measuring every cell first. */
const COLUMN_WIDTHS: Record<State['sort'], string> = {
  name: '21%',
  kind: '8%',
  type: '7%',
  owner: '11%',
  collective: '11%',
  system: '11%',
  tier: '6%',
  lifecycle: '9%',
};
const DEPLOYED_WIDTH = '12%';
const LEVEL_WIDTH = '6%';
const SKELETON_ROWS = Array.from({ length: 12 }, (_, i) => `skeleton-${i}`);

const FACET_TITLES: Record<Facet, string> = {
  kind: 'Kind',
  type: 'Type',
  owner: 'Owner',
  collective: 'Collective',
  system: 'System',
  tier: 'Tier',
  lifecycle: 'Lifecycle',
  level: 'Readiness level',
};

const COLUMNS: { key: State['sort']; label: string }[] = [
  { key: 'name', label: 'Name' },
  { key: 'kind', label: 'Kind' },
  { key: 'type', label: 'Type' },
  { key: 'owner', label: 'Owner' },
  { key: 'collective', label: 'Collective' },
  { key: 'system', label: 'System' },
  { key: 'tier', label: 'Tier' },
  { key: 'lifecycle', label: 'Lifecycle' },
];

type Update = (patch: Partial<State>, resetPage?: boolean) => void;
type Toggle = (facet: Facet, value: string) => void;
type FacetValue = TablePage['facets'][Facet][number];

/** The catalogue: filters with facet counts, sortable columns, server-side pages. Everything lives in the URL. */
export function CatalogueTable() {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const state = useMemo(() => readState(CATALOGUE_SCHEMA, new URLSearchParams(params.toString())), [params]);
  const { data, error, loading } = useApi<TablePage>(catalogueApiUrl(state));
  const update: Update = (patch, resetPage = true) => {
    const next = { ...state, ...patch, ...(resetPage ? { page: 1 } : {}) };
    router.replace(`${pathname}${writeState(CATALOGUE_SCHEMA, next)}`, { scroll: false });
  };
  const toggle: Toggle = (facet, value) => {
    const list = state[facet];
    update({
      [facet]: list.includes(value) ? list.filter((v) => v !== value) : [...list, value],
    } as Partial<State>);
  };
  return (
    <div className="layout-side" data-testid="catalogue" data-ready={data && !loading ? 'true' : 'false'}>
      <aside className="card" aria-label="Filters">
        <ChangedFilter state={state} update={update} />
        {FACETS.map((facet) => (
          <FacetFilter key={facet} facet={facet} data={data} selected={state[facet]} toggle={toggle} />
        ))}
      </aside>
      <section className="card" aria-label="Entities">
        <CatalogueToolbar state={state} data={data} update={update} toggle={toggle} />
        {error && (
          <div className="card-pad">
            <ApiErrorBox error={error} title="The catalogue could not be loaded" />
          </div>
        )}
        <EntitiesTable state={state} data={data} error={error} loading={loading} update={update} />
        {data && data.pages > 1 && <Pager data={data} update={update} />}
      </section>
    </div>
  );
}

/** "Changed in the last 24 h", and to which environment. */
function ChangedFilter({ state, update }: { state: State; update: Update }) {
  const environments =
    useApi<{ environments: { name: string }[] }>('/api/deploys/environments').data?.environments ?? [];
  return (
    <fieldset className="facet" style={{ border: 0, margin: 0 }} data-testid="changed-filter">
      <legend>
        <h3>Deploys</h3>
      </legend>
      <ul>
        <li>
          <label>
            <input
              type="checkbox"
              checked={state.changed === '24h'}
              onChange={() =>
                update({
                  changed: state.changed ? '' : '24h',
                  ...(state.changed ? { changedEnv: '' } : {}),
                })
              }
            />
            <span>Changed in the last 24 h</span>
          </label>
        </li>
        {state.changed && environments.length > 0 && (
          <li>
            <label>
              <span>to</span>
              <select
                className="input"
                aria-label="Changed in environment"
                value={state.changedEnv}
                onChange={(e) => update({ changedEnv: e.target.value })}
              >
                <option value="">any environment</option>
                {environments.map((e) => (
                  <option key={e.name} value={e.name}>
                    {e.name}
                  </option>
                ))}
              </select>
            </label>
          </li>
        )}
      </ul>
    </fieldset>
  );
}

/**
 * One facet's values with their counts: the largest few, plus whatever is selected; the rest one click away
 * (a short list keeps the page light: every row is a checkbox, a label and two counts).
 */
function FacetFilter({
  facet,
  data,
  selected,
  toggle,
}: {
  facet: Facet;
  data: TablePage | null;
  selected: string[];
  toggle: Toggle;
}) {
  const [open, setOpen] = useState(false);
  const values = data?.facets[facet] ?? [];
  const shown: FacetValue[] = open
    ? [...values]
    : values.filter((v, i) => i < FACET_PREVIEW || selected.includes(v.value));
  for (const v of selected)
    if (!shown.some((s) => s.value === v)) shown.push({ value: v, label: v, count: 0 });
  const hidden = values.length - shown.length;
  return (
    <fieldset className="facet" style={{ border: 0, margin: 0 }}>
      <legend>
        <h3>{FACET_TITLES[facet]}</h3>
      </legend>
      {!data && <Skeleton lines={3} />}
      <ul>
        {shown.map((v) => (
          <li key={v.value}>
            <label>
              <input
                type="checkbox"
                checked={selected.includes(v.value)}
                onChange={() => toggle(facet, v.value)}
              />
              <span>
                {facet === 'tier' ? `Tier ${v.label}` : facet === 'system' ? shortName(v.label) : v.label}
              </span>
              <span className="count">{v.count.toLocaleString('en-GB')}</span>
            </label>
          </li>
        ))}
        {data && shown.length === 0 && <li className="muted small">None</li>}
        {hidden > 0 && (
          <li>
            <button
              type="button"
              className="btn btn-ghost small"
              style={{ height: 24, padding: 0, color: 'var(--link)' }}
              onClick={() => setOpen(true)}
            >
              Show {hidden} more
            </button>
          </li>
        )}
        {data && open && (data.facetValues?.[facet] ?? 0) > values.length && (
          <li className="muted small">
            and {data.facetValues[facet] - values.length} smaller: use the filter box or search
          </li>
        )}
      </ul>
    </fieldset>
  );
}

/** Above the table: the text filter (debounced into the URL), the active filters as chips, the total. */
function CatalogueToolbar({
  state,
  data,
  update,
  toggle,
}: {
  state: State;
  data: TablePage | null;
  update: Update;
  toggle: Toggle;
}) {
  const [text, setText] = useState(state.q);
  const debounce = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => setText(state.q), [state.q]);
  const onText = (value: string) => {
    setText(value);
    if (debounce.current) clearTimeout(debounce.current);
    debounce.current = setTimeout(() => update({ q: value.trim() }), 200);
  };
  const activeFilters = FACETS.flatMap((f) => state[f].map((v) => ({ f, v })));
  return (
    <div className="card-head" style={{ gap: 12 }}>
      <div className="row">
        <label htmlFor="catalogue-filter" className="sr-only">
          Filter by text
        </label>
        <input
          id="catalogue-filter"
          className="input"
          style={{ width: 280 }}
          placeholder="Filter by name, description or tag"
          value={text}
          onChange={(e) => onText(e.target.value)}
        />
        {activeFilters.map(({ f, v }) => (
          <button
            key={`${f}:${v}`}
            type="button"
            className="badge"
            style={{ border: 0, cursor: 'pointer' }}
            onClick={() => toggle(f, v)}
          >
            {FACET_TITLES[f]}: {f === 'owner' || f === 'collective' || f === 'system' ? shortName(v) : v} ✕
          </button>
        ))}
        {state.changed && (
          <button
            type="button"
            className="badge"
            style={{ border: 0, cursor: 'pointer' }}
            onClick={() => update({ changed: '', changedEnv: '' })}
          >
            Changed in 24 h{state.changedEnv ? ` to ${state.changedEnv}` : ''} ✕
          </button>
        )}
        {activeFilters.length > 0 && (
          <button type="button" className="btn btn-ghost small" onClick={() => update(NO_FILTERS)}>
            Clear filters
          </button>
        )}
      </div>
      <span className="muted small" aria-live="polite">
        {data ? `${data.total.toLocaleString('en-GB')} entities` : 'Loading…'}
      </span>
    </div>
  );
}

const NO_FILTERS: Partial<State> = {
  kind: [],
  type: [],
  owner: [],
  collective: [],
  system: [],
  tier: [],
  lifecycle: [],
  level: [],
  changed: '',
  changedEnv: '',
};

/** The page of entities: a column header sorts by it (again: the other way); skeleton rows while loading. */
function EntitiesTable({
  state,
  data,
  error,
  loading,
  update,
}: {
  state: State;
  data: TablePage | null;
  error: ApiState<TablePage>['error'];
  loading: boolean;
  update: Update;
}) {
  return (
    <div className="table-wrap">
      <table className="table table-fixed" aria-busy={loading}>
        <colgroup>
          {COLUMNS.map((c) => (
            <col key={c.key} style={{ width: COLUMN_WIDTHS[c.key] }} />
          ))}
          <col style={{ width: LEVEL_WIDTH }} />
          <col style={{ width: DEPLOYED_WIDTH }} />
        </colgroup>
        <thead>
          <tr>
            {COLUMNS.map((c) => {
              const sorted = state.sort === c.key;
              return (
                <th
                  key={c.key}
                  aria-sort={sorted ? (state.dir === 'asc' ? 'ascending' : 'descending') : 'none'}
                >
                  <button
                    type="button"
                    onClick={() =>
                      update({ sort: c.key, dir: sorted && state.dir === 'asc' ? 'desc' : 'asc' })
                    }
                  >
                    {c.label}
                    <span aria-hidden="true">{sorted ? (state.dir === 'asc' ? '▲' : '▼') : ''}</span>
                  </button>
                </th>
              );
            })}
            <th title="Production-readiness level (scorecards): none is below bronze">Level</th>
            <th title="The version running in the last environment that runs one (prod first)">Deployed</th>
          </tr>
        </thead>
        <tbody>
          {!data &&
            !error &&
            SKELETON_ROWS.map((key) => (
              <tr key={key}>
                <td colSpan={COLUMNS.length + 2}>
                  <div className="skeleton skeleton-line" />
                </td>
              </tr>
            ))}
          {data?.rows.map((r) => (
            <EntityRow key={r.ref} r={r} />
          ))}
          {data && data.rows.length === 0 && (
            <tr>
              <td colSpan={COLUMNS.length + 2} className="muted" style={{ padding: 24, textAlign: 'center' }}>
                Nothing matches these filters.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

function EntityRow({ r }: { r: CatalogueRow }) {
  return (
    <tr>
      <td>
        <Link prefetch={false} href={entityHref(r.ref)} style={{ fontWeight: 600 }}>
          {r.name}
        </Link>
        {r.stale && (
          <span className="badge badge-warn" style={{ marginLeft: 6 }}>
            stale
          </span>
        )}
        {r.description && <div className="desc">{r.description}</div>}
      </td>
      <td>
        <span className="badge kind">{r.kind}</span>
      </td>
      <td>{r.type ?? <span className="muted">—</span>}</td>
      <td>
        <EntityLink entityRef={r.owner} label={r.ownerTitle} />
      </td>
      <td>
        <EntityLink entityRef={r.collective} label={r.collectiveTitle} />
      </td>
      <td>
        <EntityLink entityRef={r.system} />
      </td>
      <td>
        <TierBadge tier={r.tier} />
      </td>
      <td>{r.lifecycle ?? <span className="muted">—</span>}</td>
      <td data-testid="row-level">
        {r.level ? (
          <Link prefetch={false} href={`${entityHref(r.ref)}#scorecards`} className="badge">
            {r.level}
          </Link>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
      <td className="small" data-testid="row-deployed">
        <DeployedCell deploy={r.deploy} />
      </td>
    </tr>
  );
}

/** Which rows are shown, and First / Previous / Next / Last. */
function Pager({ data, update }: { data: TablePage; update: Update }) {
  return (
    <nav className="pager" aria-label="Pages">
      <span className="muted small">
        {((data.page - 1) * data.size + 1).toLocaleString('en-GB')}–
        {Math.min(data.page * data.size, data.total).toLocaleString('en-GB')} of{' '}
        {data.total.toLocaleString('en-GB')}
      </span>
      <div className="row">
        <button
          type="button"
          className="btn"
          disabled={data.page <= 1}
          onClick={() => update({ page: 1 }, false)}
        >
          First
        </button>
        <button
          type="button"
          className="btn"
          disabled={data.page <= 1}
          onClick={() => update({ page: data.page - 1 }, false)}
        >
          Previous
        </button>
        <span className="small">
          Page {data.page} of {data.pages.toLocaleString('en-GB')}
        </span>
        <button
          type="button"
          className="btn"
          disabled={data.page >= data.pages}
          onClick={() => update({ page: data.page + 1 }, false)}
        >
          Next
        </button>
        <button
          type="button"
          className="btn"
          disabled={data.page >= data.pages}
          onClick={() => update({ page: data.pages }, false)}
        >
          Last
        </button>
      </div>
    </nav>
  );
}

/** A service's deployed version (prod first) and, when it changed in the last 24 h, a marker saying when. */
function DeployedCell({ deploy }: { deploy: CatalogueRow['deploy'] }) {
  if (deploy === undefined || deploy === null) return <span className="muted">—</span>;
  const { deployed } = deploy;
  return (
    <>
      {deployed ? (
        <span
          title={`${deployed.environment} since ${deployed.since}${deployed.actor ? ` by ${deployed.actor}` : ''}`}
        >
          <span className="mono">{deployed.version}</span>{' '}
          <span className="muted">{deployed.environment}</span>
        </span>
      ) : (
        <span className="muted">not deployed</span>
      )}
      {deploy.changed && deploy.lastChangeAt && (
        <span className="badge badge-warn" style={{ marginLeft: 6 }} data-testid="row-changed">
          changed {ago(deploy.lastChangeAt)}
        </span>
      )}
    </>
  );
}
