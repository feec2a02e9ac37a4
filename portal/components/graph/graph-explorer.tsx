'use client';
import type { EntityBundle } from '@bank/plugin-entity';
import type { EstateGraph } from '@bank/plugin-explorer';
import type { ObservedEdge } from '@bank/plugin-traffic';
import Link from 'next/link';
import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useMemo, useState } from 'react';
import { ESTATE_API_URL, pathTrafficApiUrl, TRAFFIC_EDGES_API_URL } from '../../lib/api-urls.ts';
import {
  buildGraphView,
  type GraphView,
  type GraphViewState,
  type Neighbour,
  neighboursOf,
  suggestServices,
  type VNode,
} from '../../lib/graph-model.ts';
import { entityHref, shortName } from '../../lib/refs.ts';
import { GRAPH_SCHEMA, readState, type StateOf, writeState } from '../../lib/url-state.ts';
import { EntityLink } from '../common/entity-link';
import { ApiErrorBox, Skeleton } from '../common/feedback';
import { SafeLink } from '../common/safe-link';
import { TierBadge } from '../common/tier-badge';
import { useApi } from '../common/use-api';
import { ErrorRateLegend, errorRatesOf } from '../traffic/edge-health';
import { GraphCanvas } from './graph-canvas';

type State = StateOf<typeof GRAPH_SCHEMA>;

type Update = (patch: Partial<State>) => void;

/** The graph explorer: controls on the left, the canvas, the selection's card on the right, and below, the
 * table of exactly what the canvas draws (for Ctrl+F and screen readers). */
export function GraphExplorer() {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const state = useMemo(() => readState(GRAPH_SCHEMA, new URLSearchParams(params.toString())), [params]);
  const { data: graph, error } = useApi<EstateGraph>(ESTATE_API_URL);

  const update: Update = (patch) =>
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

  const focusOn = (name: string) => update({ focus: name, team: '', selected: '' });
  const onActivate = (id: string) => {
    const node = view?.nodes.find((n) => n.id === id);
    if (node?.kind === 'group' && node.ref) update({ team: node.ref, focus: '', selected: '' });
    else if (node?.ref) update({ focus: shortName(node.ref), team: '', selected: id });
  };
  const onSelect = (id: string) => update({ selected: id });

  if (error) return <ApiErrorBox error={error} title="The graph could not be loaded" />;
  const selectedNode = view?.nodes.find((n) => n.id === state.selected) ?? null;

  return (
    <>
      <div className="graph-shell">
        <GraphControls graph={graph} view={view} state={state} update={update} onFocus={focusOn} />
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
          {view && <Status view={view} />}
        </section>
        <aside className="card card-pad" aria-label="Selection" style={{ alignSelf: 'start' }}>
          {!selectedNode && <HowToRead view={view} errorRates={errorRates.size > 0} />}
          {selectedNode?.kind === 'group' && <GroupCard node={selectedNode} onActivate={onActivate} />}
          {graph && selectedNode && selectedNode.kind !== 'group' && selectedNode.ref && (
            <NodeCard
              graph={graph}
              entityRef={selectedNode.ref}
              hidden={selectedNode.hidden}
              onFocus={(name) => focusOn(name)}
            />
          )}
        </aside>
      </div>
      {view && <GraphTable view={view} onSelect={onSelect} />}
    </>
  );
}

/** The left side: what to draw (focus and hops, team, overview grouping) and which boxes and arrows. */
function GraphControls({
  graph,
  view,
  state,
  update,
  onFocus,
}: {
  graph: EstateGraph | null;
  view: GraphView | null;
  state: State;
  update: Update;
  onFocus: (name: string) => void;
}) {
  return (
    <aside
      className="card card-pad stack"
      aria-label="Graph controls"
      style={{ gap: 14, alignSelf: 'start' }}
    >
      <FocusBox graph={graph} current={state.focus} onFocus={onFocus} />
      {view?.focusMissing && (
        <p className="small" role="alert" style={{ color: 'var(--danger)', margin: 0 }}>
          No service called “{state.focus}”.
        </p>
      )}
      {state.focus && (
        <>
          <button
            type="button"
            className="btn btn-ghost small"
            style={{ paddingLeft: 0, justifyContent: 'flex-start' }}
            onClick={() => update({ focus: '', selected: '' })}
          >
            ✕ Clear focus ({state.focus})
          </button>
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
        </>
      )}
      <TeamSelect graph={graph} view={view} team={state.team} update={update} />
      {view?.mode === 'overview' && (
        <label className="field">
          Overview by
          <select className="input" value={state.group} onChange={(e) => update({ group: e.target.value })}>
            <option value="collective">Collective</option>
            <option value="system">System</option>
          </select>
        </label>
      )}
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
    </aside>
  );
}

/** The team to show: the overview, a whole collective, or one of its squads (by title). */
function TeamSelect({
  graph,
  view,
  team,
  update,
}: {
  graph: EstateGraph | null;
  view: GraphView | null;
  team: string;
  update: Update;
}) {
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
  return (
    <label className="field">
      Team
      <select
        className="input"
        value={team}
        onChange={(e) => update({ team: e.target.value, focus: '', selected: '' })}
      >
        <option value="">All teams (overview)</option>
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
        {team && !graph?.collectives.some((c) => c.ref === team) && view?.teamTitle && (
          <option value={team}>{view.teamTitle}</option>
        )}
      </select>
    </label>
  );
}

/** A selected group box (a collective or system in the overview): open it, or its page. */
function GroupCard({ node, onActivate }: { node: VNode; onActivate: (id: string) => void }) {
  return (
    <div className="stack" data-testid="node-card">
      <h2 style={{ margin: 0 }}>{node.label}</h2>
      <p className="small muted" style={{ margin: 0 }}>
        {node.sub}
      </p>
      {node.ref && (
        <>
          <button type="button" className="btn btn-primary" onClick={() => onActivate(node.id)}>
            Show its services and neighbours
          </button>
          <EntityLink entityRef={node.ref} label="Open its page" />
        </>
      )}
    </div>
  );
}

function Status({ view }: { view: GraphView }) {
  const what =
    view.mode === 'overview'
      ? view.groupsNotDrawn > 0
        ? `${view.nodes.length} busiest of ${view.nodes.length + view.groupsNotDrawn} groups · ${view.inScope} services`
        : `${view.nodes.length} groups · ${view.inScope} services`
      : `${view.inScope} services`;
  return (
    <div className="graph-status" data-testid="graph-status">
      {what} · {view.shownEdges} calls shown
      {view.hiddenEdges > 0 &&
        ` · ${view.hiddenEdges} hidden by ${view.mode === 'overview' ? 'filters' : view.mode === 'team' ? 'the team view or filters' : 'the hop limit or filters'} (counted on nodes)`}
      {view.thinnedLinks > 0 &&
        (view.groupsNotDrawn > 0
          ? ` · ${view.thinnedLinks} weaker links hidden · pick a team for the rest`
          : ` · ${view.thinnedLinks} weaker links between groups not drawn`)}
      {view.groupsNotDrawn > 0 && view.thinnedLinks === 0 && ' · pick a team for the rest'}
    </div>
  );
}

function HowToRead({ view, errorRates }: { view: GraphView | null; errorRates: boolean }) {
  return (
    <div className="stack small">
      <h2>How to read this</h2>
      <p style={{ margin: 0 }}>Callers are on the left, what they call is to the right.</p>
      {view?.mode === 'overview' ? (
        <p style={{ margin: 0 }}>
          Each box is a collective (or system); numbers on arrows count the calls between them. Double-click a
          box, or pick a team, to see its services and their direct neighbours.
        </p>
      ) : (
        <p style={{ margin: 0 }}>
          Each box is a service: its owner and tier are under its name. Dashed boxes are neighbours outside
          the team. Double-click a service to focus on it.
        </p>
      )}
      {view?.mode === 'team' && (
        <p style={{ margin: 0 }}>
          The team’s own services are in the middle: who calls them on the left, what they call on the right.
        </p>
      )}
      {view?.mode === 'focus' && view.depth === 1 && (
        <p style={{ margin: 0 }}>
          The focus is in the middle: its callers on the left, what it calls on the right.
        </p>
      )}
      <p style={{ margin: 0 }}>
        Zoom with the wheel, the buttons or + and −; drag or arrow keys pan; 0 fits. A view too large to read
        whole opens on the team or the focus.
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
      {errorRates && <ErrorRateLegend />}
    </div>
  );
}

/** The focus box: type a few letters, pick a service from the suggestions (arrows and Enter work). */
function FocusBox({
  graph,
  current,
  onFocus,
}: {
  graph: EstateGraph | null;
  current: string;
  onFocus: (name: string) => void;
}) {
  const [text, setText] = useState(current);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const suggestions = useMemo(() => (graph && open ? suggestServices(graph, text) : []), [graph, text, open]);
  const pick = (name: string) => {
    setText(name);
    setOpen(false);
    onFocus(name);
  };
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        const chosen = suggestions[active]?.name ?? text.trim();
        pick(chosen);
      }}
      style={{ position: 'relative' }}
    >
      <label className="field" htmlFor="graph-focus">
        Focus on a service
      </label>
      <div className="row" style={{ flexWrap: 'nowrap', marginTop: 4 }}>
        <input
          id="graph-focus"
          className="input"
          style={{ flex: 1, minWidth: 0 }}
          placeholder="e.g. ledger"
          autoComplete="off"
          role="combobox"
          aria-expanded={suggestions.length > 0}
          aria-controls="graph-focus-options"
          aria-autocomplete="list"
          aria-activedescendant={suggestions.length > 0 ? `graph-focus-${active}` : undefined}
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            setOpen(true);
            setActive(0);
          }}
          onBlur={() => setTimeout(() => setOpen(false), 150)}
          onKeyDown={(e) => {
            if (e.key === 'ArrowDown') setActive((a) => Math.min(a + 1, suggestions.length - 1));
            else if (e.key === 'ArrowUp') setActive((a) => Math.max(a - 1, 0));
            else if (e.key === 'Escape') setOpen(false);
            else return;
            e.preventDefault();
          }}
        />
        <button type="submit" className="btn btn-primary">
          Focus
        </button>
      </div>
      {suggestions.length > 0 && (
        <div id="graph-focus-options" role="listbox" aria-label="Services" className="graph-suggest">
          {suggestions.map((s, i) => (
            <div
              key={s.ref}
              tabIndex={-1}
              id={`graph-focus-${i}`}
              role="option"
              aria-selected={i === active}
              onMouseDown={(e) => {
                e.preventDefault();
                pick(s.name);
              }}
            >
              {s.name} {s.tier !== null && <span className="muted">T{s.tier}</span>}
            </div>
          ))}
        </div>
      )}
    </form>
  );
}

function NeighbourList({
  graph,
  title,
  list,
  onFocus,
  testId,
}: {
  graph: EstateGraph;
  title: string;
  list: Neighbour[];
  onFocus: (name: string) => void;
  testId: string;
}) {
  return (
    <section>
      <h3 style={{ margin: '6px 0 4px', fontSize: 14 }}>
        {title} ({list.length})
      </h3>
      {list.length === 0 ? (
        <p className="small muted" style={{ margin: 0 }}>
          none
        </p>
      ) : (
        <ul className="list neighbours small" data-testid={testId}>
          {list.map(({ node }) => (
            <li key={node.ref} className="row" style={{ gap: 6, padding: '2px 0', flexWrap: 'nowrap' }}>
              <button
                type="button"
                className="btn btn-ghost small"
                style={{ height: 22, padding: '0 2px' }}
                title={`Focus on ${node.name}`}
                onClick={() => onFocus(node.name)}
              >
                {node.name}
              </button>
              <span className="muted" style={{ flex: 1, minWidth: 0 }}>
                {node.owner >= 0
                  ? graph.teams[node.owner].title
                  : node.kind === 'resource'
                    ? 'storage'
                    : 'no owner'}
              </span>
              <TierBadge tier={node.tier} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function NodeCard({
  graph,
  entityRef,
  hidden,
  onFocus,
}: {
  graph: EstateGraph;
  entityRef: string;
  hidden: number;
  onFocus: (name: string) => void;
}) {
  const { data, error } = useApi<EntityBundle>(`/api${entityHref(entityRef)}`);
  const { callers, callees } = useMemo(() => neighboursOf(graph, entityRef), [graph, entityRef]);
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
        {hidden > 0 && (
          <>
            <dt>Hidden</dt>
            <dd>{hidden} calls (filters, team or hop limit)</dd>
          </>
        )}
      </dl>
      <div className="row">
        <Link prefetch={false} className="btn btn-primary" href={entityHref(entityRef)}>
          Open page
        </Link>
        <button type="button" className="btn" onClick={() => onFocus(shortName(entityRef))}>
          Focus here
        </button>
      </div>
      <NeighbourList graph={graph} title="Called by" list={callers} onFocus={onFocus} testId="callers" />
      <NeighbourList graph={graph} title="Calls" list={callees} onFocus={onFocus} testId="callees" />
    </div>
  );
}

/** Exactly what the canvas draws, as a table: one row per box, with the drawn arrows out of and into it. */
function GraphTable({ view, onSelect }: { view: GraphView; onSelect: (id: string) => void }) {
  const byId = useMemo(() => new Map(view.nodes.map((n) => [n.id, n])), [view]);
  const out = useMemo(() => {
    const m = new Map<string, string[]>();
    const inn = new Map<string, string[]>();
    const name = (id: string, count: number) =>
      `${byId.get(id)?.label ?? id}${count > 1 ? ` (${count})` : ''}`;
    for (const e of view.edges) {
      m.set(e.source, [...(m.get(e.source) ?? []), name(e.target, e.count)]);
      inn.set(e.target, [...(inn.get(e.target) ?? []), name(e.source, e.count)]);
    }
    return { calls: m, calledBy: inn };
  }, [view, byId]);
  const groups = view.mode === 'overview';
  const rows: VNode[] = [...view.nodes].sort((a, b) => a.label.localeCompare(b.label));
  return (
    <section className="card card-pad graph-table" aria-label="What the graph shows">
      <h2 style={{ marginTop: 0 }}>What the graph shows ({rows.length})</h2>
      <table className="table" data-testid="graph-table">
        <thead>
          <tr>
            <th scope="col">{groups ? 'Group' : 'Service'}</th>
            <th scope="col">{groups ? 'Size' : 'Owner'}</th>
            <th scope="col">Tier</th>
            <th scope="col">Calls</th>
            <th scope="col">Called by</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((n) => (
            <tr key={n.id} data-node={n.id}>
              <th scope="row">
                <button type="button" className="btn btn-ghost small" onClick={() => onSelect(n.id)}>
                  {n.label}
                </button>
                {n.focus && ' (focus)'}
                {n.neighbour && <span className="muted small"> neighbour</span>}
              </th>
              <td>{groups ? n.sub : (n.owner ?? '—')}</td>
              <td>
                <TierBadge tier={n.tier} />
              </td>
              <td className="small">{(out.calls.get(n.id) ?? []).join(', ') || '—'}</td>
              <td className="small">{(out.calledBy.get(n.id) ?? []).join(', ') || '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
