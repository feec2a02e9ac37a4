'use client';
import Link from 'next/link';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useMemo, useState } from 'react';
import { ESTATE_API_URL, pathTrafficApiUrl, TRAFFIC_EDGES_API_URL } from '../../lib/api-urls.ts';
import type { EstateGraph } from '../../lib/estate.ts';
import { buildGraphView, type GraphViewState, groupIdOf, groupTitle } from '../../lib/graph-model.ts';
import { entityHref, shortName } from '../../lib/refs.ts';
import type { EntityBundle, ObservedEdge } from '../../lib/types.ts';
import { GRAPH_SCHEMA, readState, type StateOf, writeState } from '../../lib/url-state.ts';
import { EntityLink } from '../common/entity-link';
import { ApiErrorBox, Skeleton } from '../common/feedback';
import { SafeLink } from '../common/safe-link';
import { TierBadge } from '../common/tier-badge';
import { useApi } from '../common/use-api';
import { ErrorRateLegend, errorRatesOf } from '../traffic/edge-health';
import { GraphCanvas } from './graph-canvas';

type State = StateOf<typeof GRAPH_SCHEMA>;

/** The graph explorer: controls on the left, the canvas, and the selected node's card on the right. */
export function GraphExplorer() {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const state = useMemo(() => readState(GRAPH_SCHEMA, new URLSearchParams(params.toString())), [params]);
  const { data: graph, error } = useApi<EstateGraph>(ESTATE_API_URL);
  const [focusText, setFocusText] = useState(state.focus);

  const update = (patch: Partial<State>) =>
    router.replace(`${pathname}${writeState(GRAPH_SCHEMA, { ...state, ...patch })}`, { scroll: false });

  const view = useMemo(() => (graph ? buildGraphView(graph, state as GraphViewState) : null), [graph, state]);

  // Observed health of the drawn services' edges (the few in view, else every observed edge).
  const trafficUrl = useMemo(() => {
    const refs = (view?.nodes ?? []).filter((n) => n.kind !== 'group' && n.ref).map((n) => n.ref as string);
    if (refs.length < 2) return null;
    return refs.length <= 100 ? pathTrafficApiUrl(refs.sort()) : TRAFFIC_EDGES_API_URL;
  }, [view]);
  const traffic = useApi<{ edges: ObservedEdge[] }>(trafficUrl).data;
  const errorRates = useMemo(() => errorRatesOf(traffic?.edges ?? []), [traffic]);

  const groups = useMemo(() => {
    if (!graph) return [];
    const counts = new Map<string, number>();
    for (const n of graph.nodes) {
      if (n.kind !== 'component') continue;
      const g = groupIdOf(graph, n, state.group as GraphViewState['group']);
      counts.set(g, (counts.get(g) ?? 0) + 1);
    }
    return [...counts]
      .map(([id, count]) => ({
        id,
        count,
        title: groupTitle(graph, id, state.group as GraphViewState['group']),
      }))
      .sort((a, b) => a.title.localeCompare(b.title));
  }, [graph, state.group]);

  const teamsByCollective = useMemo(() => {
    const m = new Map<number, Set<number>>();
    for (const n of graph?.nodes ?? []) {
      if (n.owner < 0 || n.collective < 0) continue;
      const set = m.get(n.collective) ?? new Set<number>();
      set.add(n.owner);
      m.set(n.collective, set);
    }
    return m;
  }, [graph]);

  const expandedSet = new Set(state.expand.map((g) => (g.startsWith('g:') ? g : `g:${g}`)));
  const isExpanded = (id: string) =>
    expandedSet.has(id) || view?.nodes.some((n) => n.id === id && n.expanded);
  const toggleGroup = (id: string) => {
    const key = id;
    const list = state.expand.map((g) => (g.startsWith('g:') ? g : `g:${g}`));
    update({ expand: list.includes(key) ? list.filter((g) => g !== key) : [...list, key], selected: id });
  };

  const onActivate = (id: string) => {
    if (id.startsWith('g:')) toggleGroup(id);
    else if (id.startsWith('n:')) update({ focus: shortName(id.slice(2)), selected: id });
  };
  const onSelect = (id: string) => {
    const node = view?.nodes.find((n) => n.id === id);
    if (node?.kind === 'group' && !node.expanded) toggleGroup(id);
    else update({ selected: id });
  };

  if (error) return <ApiErrorBox error={error} title="The graph could not be loaded" />;
  const selectedNode = view?.nodes.find((n) => n.id === state.selected) ?? null;

  return (
    <div className="graph-shell">
      <aside
        className="card card-pad stack"
        aria-label="Graph controls"
        style={{ gap: 14, alignSelf: 'start' }}
      >
        <form
          onSubmit={(e) => {
            e.preventDefault();
            update({ focus: focusText.trim(), selected: '' });
          }}
        >
          <label className="field" htmlFor="graph-focus">
            Focus on a service
          </label>
          <div className="row" style={{ flexWrap: 'nowrap', marginTop: 4 }}>
            <input
              id="graph-focus"
              className="input"
              style={{ flex: 1, minWidth: 0 }}
              placeholder="e.g. balance"
              value={focusText}
              onChange={(e) => setFocusText(e.target.value)}
            />
            <button type="submit" className="btn btn-primary">
              Focus
            </button>
          </div>
          {state.focus && (
            <button
              type="button"
              className="btn btn-ghost small"
              style={{ paddingLeft: 0 }}
              onClick={() => {
                setFocusText('');
                update({ focus: '', selected: '' });
              }}
            >
              ✕ Clear focus ({state.focus})
            </button>
          )}
          {view?.focusMissing && (
            <p className="small" role="alert" style={{ color: 'var(--danger)', margin: '4px 0 0' }}>
              No service called “{state.focus}”.
            </p>
          )}
        </form>
        {state.focus && (
          <label className="field">
            Hops around the focus
            <select
              className="input"
              value={state.depth}
              onChange={(e) => update({ depth: Number(e.target.value) })}
            >
              {[1, 2, 3, 4].map((d) => (
                <option key={d} value={d}>
                  {d}
                </option>
              ))}
            </select>
          </label>
        )}
        <label className="field">
          Group by
          <select
            className="input"
            value={state.group}
            onChange={(e) => update({ group: e.target.value, expand: [] })}
          >
            <option value="collective">Collective</option>
            <option value="system">System</option>
          </select>
        </label>
        <fieldset style={{ border: 0, padding: 0, margin: 0 }}>
          <legend className="field" style={{ marginBottom: 4 }}>
            Tier
          </legend>
          <div className="row">
            {['1', '2', '3', '4'].map((t) => (
              <label key={t} className="row small" style={{ gap: 4 }}>
                <input
                  type="checkbox"
                  checked={state.tier.includes(t)}
                  onChange={() =>
                    update({
                      tier: state.tier.includes(t) ? state.tier.filter((x) => x !== t) : [...state.tier, t],
                    })
                  }
                />
                T{t}
              </label>
            ))}
          </div>
        </fieldset>
        <label className="field">
          Team
          <select className="input" value={state.team} onChange={(e) => update({ team: e.target.value })}>
            <option value="">All teams</option>
            {graph?.collectives
              .map((c, i) => ({ c, i }))
              .sort((a, b) => a.c.title.localeCompare(b.c.title))
              .map(({ c, i }) => (
                <optgroup key={c.ref} label={c.title}>
                  <option value={c.ref}>All of {c.title}</option>
                  {[...(teamsByCollective.get(i) ?? [])]
                    .map((t) => graph.teams[t])
                    .sort((a, b) => a.title.localeCompare(b.title))
                    .map((t) => (
                      <option key={t.ref} value={t.ref}>
                        {t.title}
                      </option>
                    ))}
                </optgroup>
              ))}
          </select>
        </label>
        <label className="field">
          Edges
          <select className="input" value={state.edges} onChange={(e) => update({ edges: e.target.value })}>
            <option value="any">Declared and observed</option>
            <option value="declared">Declared only</option>
            <option value="observed">Observed only</option>
          </select>
        </label>
        <label className="row small" style={{ flexWrap: 'nowrap' }}>
          <input
            type="checkbox"
            checked={state.resources}
            onChange={() => update({ resources: !state.resources })}
          />
          Show resources (databases, topics)
        </label>
        <div>
          <div className="field" style={{ marginBottom: 4 }}>
            Groups
          </div>
          <ul className="list" data-testid="graph-groups">
            {groups.map((g) => (
              <li key={g.id} style={{ padding: '3px 0' }}>
                <button
                  type="button"
                  className="btn btn-ghost small"
                  style={{ height: 26, padding: '0 4px', width: '100%', justifyContent: 'space-between' }}
                  aria-pressed={Boolean(isExpanded(g.id))}
                  aria-label={`${isExpanded(g.id) ? 'Collapse' : 'Expand'} ${g.title}`}
                  onClick={() => toggleGroup(g.id)}
                >
                  <span>
                    {isExpanded(g.id) ? '▾' : '▸'} {g.title}
                  </span>
                  <span className="muted">{g.count}</span>
                </button>
              </li>
            ))}
          </ul>
          {state.expand.length > 0 && (
            <button
              type="button"
              className="btn small"
              style={{ marginTop: 6 }}
              onClick={() => update({ expand: [] })}
            >
              Collapse all
            </button>
          )}
        </div>
      </aside>

      <section className="card graph-canvas" aria-label="Call graph">
        {!view && <Skeleton height={520} />}
        {view && (
          <GraphCanvas
            view={view}
            selected={state.selected}
            onSelect={onSelect}
            onActivate={onActivate}
            errorRates={errorRates}
          />
        )}
        {view && (
          <div className="graph-status" data-testid="graph-status">
            {view.inScope} services · {view.shownEdges} calls shown
            {view.hiddenEdges > 0 && ` · ${view.hiddenEdges} hidden by filters or focus (counted on nodes)`}
          </div>
        )}
      </section>

      <aside className="card card-pad" aria-label="Selection" style={{ alignSelf: 'start' }}>
        {!selectedNode && (
          <div className="stack small">
            <h2>How to read this</h2>
            <p style={{ margin: 0 }}>Callers are on the left, what they call is to the right.</p>
            <p style={{ margin: 0 }}>
              Blue boxes are collectives or systems: click one to expand it. Numbers on edges count the calls
              they stand for.
            </p>
            <p style={{ margin: 0 }}>
              “+N hidden edges” counts calls a filter or the focus depth hides. Nothing is dropped silently.
            </p>
            <div className="legend">
              <span>
                <i style={{ background: 'var(--tier1)' }} />
                Tier 1
              </span>
              <span>
                <i style={{ background: 'var(--tier2)' }} />
                Tier 2
              </span>
              <span>
                <i style={{ background: 'var(--tier3)' }} />
                Tier 3
              </span>
              <span>— declared and seen</span>
              <span style={{ color: 'var(--warn)' }}>- - seen only (undeclared)</span>
              <span style={{ opacity: 0.5 }}>···· declared, not seen</span>
            </div>
            {errorRates.size > 0 && <ErrorRateLegend />}
          </div>
        )}
        {selectedNode && selectedNode.kind === 'group' && (
          <div className="stack" data-testid="node-card">
            <h2 style={{ margin: 0 }}>{selectedNode.label}</h2>
            <p className="small muted" style={{ margin: 0 }}>
              {selectedNode.members} services in view
            </p>
            {selectedNode.ref && <EntityLink entityRef={selectedNode.ref} label="Open its page" />}
            <button type="button" className="btn" onClick={() => toggleGroup(selectedNode.id)}>
              {selectedNode.expanded ? 'Collapse' : 'Expand'}
            </button>
          </div>
        )}
        {selectedNode && selectedNode.kind !== 'group' && selectedNode.ref && (
          <NodeCard
            entityRef={selectedNode.ref}
            hidden={selectedNode.hidden}
            onFocus={() => update({ focus: shortName(selectedNode.ref), selected: selectedNode.id })}
          />
        )}
      </aside>
    </div>
  );
}

function NodeCard({
  entityRef,
  hidden,
  onFocus,
}: {
  entityRef: string;
  hidden: number;
  onFocus: () => void;
}) {
  const { data, error } = useApi<EntityBundle>(`/api${entityHref(entityRef)}`);
  if (error) return <ApiErrorBox error={error} />;
  if (!data) return <Skeleton lines={6} />;
  return (
    <div className="stack" data-testid="node-card">
      <div className="row">
        <h2 style={{ margin: 0 }}>{data.entity.metadata.name}</h2>
        <TierBadge tier={data.facts.tier} />
      </div>
      {data.entity.metadata.description && (
        <p className="small" style={{ margin: 0 }}>
          {data.entity.metadata.description}
        </p>
      )}
      <dl className="facts" style={{ gridTemplateColumns: '80px 1fr' }}>
        <dt>Owner</dt>
        <dd>{data.owner ? <EntityLink entityRef={data.owner.ref} label={data.owner.title} /> : '—'}</dd>
        <dt>On-call</dt>
        <dd className="mono small">{data.facts.oncall ?? '—'}</dd>
        <dt>Runbook</dt>
        <dd>{data.facts.runbook ? <SafeLink href={data.facts.runbook}>runbook</SafeLink> : '—'}</dd>
        {data.calls && (
          <>
            <dt>Calls</dt>
            <dd>
              {data.calls.dependencies.length} direct, {data.calls.transitiveDependencies} transitive
            </dd>
            <dt>Called by</dt>
            <dd>
              {data.calls.dependents.length} direct, {data.calls.transitiveDependents} transitive
            </dd>
          </>
        )}
        {hidden > 0 && (
          <>
            <dt>Hidden</dt>
            <dd>{hidden} edges (filters or focus depth)</dd>
          </>
        )}
      </dl>
      <div className="row">
        <Link prefetch={false} className="btn btn-primary" href={entityHref(entityRef)}>
          Open page
        </Link>
        <button type="button" className="btn" onClick={onFocus}>
          Focus here
        </button>
      </div>
    </div>
  );
}
