import { EDGE_DECLARED, EDGE_OBSERVED, type EstateGraph, type EstateNode } from '@bank/plugin-explorer/ui';
import {
  type Box,
  bandedLayout,
  fitScale,
  fittedLayeredLayout,
  type LayoutResult,
  layeredLayout,
} from './graph-layout.ts';

export interface GraphViewState {
  focus: string;
  depth: number;
  group: 'collective' | 'system';
  tier: string[];
  /** A squad, collective or system ref: its services and their direct neighbours. */
  team: string;
  edges: 'any' | 'declared' | 'observed';
  resources: boolean;
}

/**
 * What the explorer draws. `overview`: one box per collective (or system) with the calls between them
 * aggregated; `team`: a squad's, collective's or system's services and their direct neighbours; `focus`: the
 * services within n hops of one service. Team and focus views draw every service they count.
 */
export type GraphMode = 'overview' | 'team' | 'focus';

export interface VNode {
  id: string;
  kind: 'group' | 'component' | 'resource';
  label: string;
  /** The second line: owner and tier for a service, size for a group. */
  sub: string;
  /** The entity ref for services; the group ref for groups (null for the "no group" bucket). */
  ref: string | null;
  /** The owning squad's title (services). */
  owner: string | null;
  /** Services in scope inside a group node. */
  members?: number;
  /** Calls between services of a group (drawn as one number, not as edges). */
  internalCalls?: number;
  /** Call edges touching this node that a filter or the focus depth hides. */
  hidden: number;
  tier: number | null;
  focus?: boolean;
  /** A team view's neighbour: not the team's own service. */
  neighbour?: boolean;
  w: number;
  h: number;
}

export interface VEdge {
  id: string;
  source: string;
  target: string;
  /** Underlying call edges this drawn edge stands for. */
  count: number;
  observedOnly: boolean;
  /** Every call edge it stands for is declared and none was seen in traces. */
  declaredOnly: boolean;
}

export interface GraphView {
  mode: GraphMode;
  nodes: VNode[];
  edges: VEdge[];
  /** Services (and resources) in scope after filters and focus. */
  inScope: number;
  /** Call edges drawn (inside aggregates and groups included). */
  shownEdges: number;
  /** Call edges touching the scope that a filter, the team or the focus depth hides; each is counted on a node. */
  hiddenEdges: number;
  /** Overview of a large estate: links between groups beyond each group's strongest, not drawn. */
  thinnedLinks: number;
  /** Overview of a large estate: groups beyond the busiest OVERVIEW_GROUPS, not drawn (pick a team or focus). */
  groupsNotDrawn: number;
  /** The focus as resolved (a ref), null when none; `focusMissing` when the name matched nothing. */
  focusRef: string | null;
  focusMissing: boolean;
  /** Hops around the focus (focus views). */
  depth: number;
  /** The team filter's title, or null. */
  teamTitle: string | null;
}

export const NO_GROUP = 'g:none';
/** Above this many groups the overview draws each group's strongest links only (see thinnedLinks). */
export const THIN_ABOVE_GROUPS = 6;
const STRONGEST_LINKS = 3;
/**
 * The overview draws at most this many groups, the busiest (most calls in, out and inside): at 3,500 services
 * the estate has 90 collectives and at 35,000 900, which fitted into one canvas are boxes too small to read.
 */
export const OVERVIEW_GROUPS = 24;

export function groupIdOf(graph: EstateGraph, node: EstateNode, by: GraphViewState['group']): string {
  const i = by === 'collective' ? node.collective : node.system;
  const rows = by === 'collective' ? graph.collectives : graph.systems;
  return i >= 0 ? `g:${rows[i].ref}` : NO_GROUP;
}

export function groupTitle(graph: EstateGraph, id: string, by: GraphViewState['group']): string {
  if (id === NO_GROUP) return by === 'collective' ? 'No collective' : 'No system';
  const ref = id.slice(2);
  const rows = by === 'collective' ? graph.collectives : graph.systems;
  return rows.find((r) => r.ref === ref)?.title ?? ref.slice(ref.indexOf('/') + 1);
}

/** The title of a squad, collective or system ref, or null when the estate has no such group. */
export function teamTitleOf(graph: EstateGraph, ref: string): string | null {
  const q = ref.trim().toLowerCase();
  for (const rows of [graph.teams, graph.collectives, graph.systems]) {
    const row = rows.find((r) => r.ref === q);
    if (row) return row.title;
  }
  return null;
}

const groupIdCache = new WeakMap<EstateGraph, Map<string, string[]>>();

/** Each node's group id under `by`, computed once per graph. */
function groupIdsOf(graph: EstateGraph, by: GraphViewState['group']): string[] {
  let perGraph = groupIdCache.get(graph);
  if (!perGraph) {
    perGraph = new Map();
    groupIdCache.set(graph, perGraph);
  }
  let ids = perGraph.get(by);
  if (!ids) {
    ids = graph.nodes.map((node) => groupIdOf(graph, node, by));
    perGraph.set(by, ids);
  }
  return ids;
}

/** Finds a node by ref or by name (first match). */
export function findNode(graph: EstateGraph, input: string): number {
  const q = input.trim().toLowerCase();
  if (!q) return -1;
  const byRef = graph.nodes.findIndex((n) => n.ref === q);
  if (byRef >= 0) return byRef;
  const byName = graph.nodes.findIndex((n) => n.name === q && n.kind === 'component');
  return byName >= 0 ? byName : graph.nodes.findIndex((n) => n.name === q);
}

/** Up to `limit` services whose name starts with, then contains, what was typed (the focus box's suggestions). */
export function suggestServices(graph: EstateGraph, typed: string, limit = 8): EstateNode[] {
  const q = typed.trim().toLowerCase();
  if (!q) return [];
  const starts: EstateNode[] = [];
  const contains: EstateNode[] = [];
  for (const n of graph.nodes) {
    if (n.kind !== 'component') continue;
    const at = n.name.indexOf(q);
    if (at === 0) starts.push(n);
    else if (at > 0 && contains.length < limit) contains.push(n);
  }
  const byName = (a: EstateNode, b: EstateNode) =>
    a.name.length - b.name.length || a.name.localeCompare(b.name);
  return [...starts.sort(byName), ...contains.sort(byName)].slice(0, limit);
}

export interface Neighbour {
  node: EstateNode;
  /** Declared and/or observed (EDGE_DECLARED | EDGE_OBSERVED). */
  flags: number;
}

const adjacencyCache = new WeakMap<EstateGraph, { out: number[][]; in: number[][] }>();

/** Direct callees and callers of a node (components and resources), from the estate graph itself. */
export function neighboursOf(
  graph: EstateGraph,
  ref: string,
): { callees: Neighbour[]; callers: Neighbour[] } {
  let adj = adjacencyCache.get(graph);
  if (!adj) {
    const out: number[][] = graph.nodes.map(() => []);
    const inn: number[][] = graph.nodes.map(() => []);
    for (let e = 0; e < graph.edges.length; e += 3) {
      out[graph.edges[e]].push(e);
      inn[graph.edges[e + 1]].push(e);
    }
    adj = { out, in: inn };
    adjacencyCache.set(graph, adj);
  }
  const i = graph.nodes.findIndex((n) => n.ref === ref);
  if (i < 0) return { callees: [], callers: [] };
  const E = graph.edges;
  const sort = (a: Neighbour, b: Neighbour) =>
    (a.node.tier ?? 9) - (b.node.tier ?? 9) || a.node.name.localeCompare(b.node.name);
  return {
    callees: adj.out[i].map((e) => ({ node: graph.nodes[E[e + 1]], flags: E[e + 2] })).sort(sort),
    callers: adj.in[i].map((e) => ({ node: graph.nodes[E[e]], flags: E[e + 2] })).sort(sort),
  };
}

// Box sizes follow the label, so a layout that keeps boxes apart keeps labels apart (12px system-ui).
const CHAR = 7.2;
const SUB_CHAR = 6.6;
const GROUP_CHAR = 8.6;

function serviceBox(label: string, sub: string): { w: number; h: number } {
  return {
    w: Math.round(Math.min(300, Math.max(110, label.length * CHAR, sub.length * SUB_CHAR) + 26)),
    h: 44,
  };
}

function groupBox(label: string, sub: string): { w: number; h: number } {
  return {
    w: Math.round(Math.min(340, Math.max(150, label.length * GROUP_CHAR, sub.length * SUB_CHAR) + 30)),
    h: 58,
  };
}

/**
 * Turns the estate graph and the view state into what is drawn: in the overview, one node per collective
 * (or system) with calls aggregated between them and counted inside them; in team and focus views, every
 * service in scope. Every call edge touching the scope that is not drawn is counted on the node it touches,
 * never dropped silently. Storage links (to databases, topics) are not counted while resources are off: the
 * checkbox says they are off. Positions come later, from the layered layout (lib/graph-layout.ts).
 */
export function buildGraphView(graph: EstateGraph, state: GraphViewState): GraphView {
  const { shownKind, inFilter } = filterNodes(graph, state);
  const edgeMask =
    state.edges === 'declared' ? EDGE_DECLARED : state.edges === 'observed' ? EDGE_OBSERVED : 3;
  const edgePasses = (e: number) => (graph.edges[e + 2] & edgeMask) !== 0;

  const focusIndex = state.focus ? findNode(graph, state.focus) : -1;
  const teamRef = state.team.trim().toLowerCase();
  const teamTitle = teamRef ? teamTitleOf(graph, teamRef) : null;
  const mode: GraphMode = focusIndex >= 0 ? 'focus' : teamRef ? 'team' : 'overview';
  const { scope, neighbour } =
    mode === 'focus'
      ? { scope: focusScope(graph, inFilter, edgePasses, focusIndex, state.depth), neighbour: undefined }
      : mode === 'team'
        ? teamScope(graph, inFilter, edgePasses, teamRef)
        : { scope: inFilter, neighbour: undefined };

  const groupIds = groupIdsOf(graph, state.group);
  const drawnId = new Array<string>(graph.nodes.length);
  const members = new Map<string, number[]>();
  let inScope = 0;
  for (let i = 0; i < graph.nodes.length; i++) {
    if (!scope[i]) continue;
    inScope++;
    drawnId[i] = mode === 'overview' ? groupIds[i] : `n:${graph.nodes[i].ref}`;
    const list = members.get(drawnId[i]) ?? [];
    list.push(i);
    members.set(drawnId[i], list);
  }

  const calls = drawnCalls(graph, scope, shownKind, drawnId, edgePasses);
  const drawn =
    mode === 'overview' && members.size > OVERVIEW_GROUPS ? busiestGroups(members, calls) : undefined;
  const allEdges = drawn
    ? calls.edges.filter((e) => drawn.has(e.source) && drawn.has(e.target))
    : calls.edges;
  const { edges, thinnedLinks } =
    mode === 'overview' && (drawn?.size ?? members.size) > THIN_ABOVE_GROUPS
      ? strongestLinks(allEdges)
      : { edges: allEdges, thinnedLinks: 0 };

  const nodes: VNode[] = [];
  for (const id of [...members.keys()].sort()) {
    if (drawn && !drawn.has(id)) continue;
    const list = members.get(id) as number[];
    const hidden = calls.hidden.get(id) ?? 0;
    if (mode === 'overview')
      nodes.push(groupNode(graph, id, list, state.group, calls.internal.get(id) ?? 0, hidden));
    else
      nodes.push(serviceNode(graph, id, list[0], hidden, list[0] === focusIndex, neighbour?.[list[0]] === 1));
  }
  return {
    mode,
    nodes,
    edges,
    inScope,
    shownEdges: calls.shownEdges,
    hiddenEdges: calls.hiddenEdges,
    thinnedLinks,
    groupsNotDrawn: drawn ? members.size - drawn.size : 0,
    focusRef: focusIndex >= 0 ? graph.nodes[focusIndex].ref : null,
    focusMissing: state.focus !== '' && focusIndex < 0,
    depth: state.depth,
    teamTitle,
  };
}

/** Per node: 1 when the view can show its kind at all (resources only when asked for); 1 when it passes the tiers too. */
function filterNodes(
  graph: EstateGraph,
  state: GraphViewState,
): { shownKind: Uint8Array; inFilter: Uint8Array } {
  const n = graph.nodes.length;
  const tiers = new Set(state.tier);
  const shownKind = new Uint8Array(n);
  const inFilter = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const node = graph.nodes[i];
    if (node.kind !== 'component' && !(node.kind === 'resource' && state.resources)) continue;
    shownKind[i] = 1;
    if (tiers.size > 0 && node.kind === 'component') {
      if (!tiers.has(node.tier === null ? 'unknown' : String(node.tier))) continue;
    }
    inFilter[i] = 1;
  }
  return { shownKind, inFilter };
}

/** The focus and everything within `depth` hops of it: breadth-first over passing edges, both directions, within the filter. */
function focusScope(
  graph: EstateGraph,
  inFilter: Uint8Array,
  edgePasses: (e: number) => boolean,
  focusIndex: number,
  depth: number,
): Uint8Array {
  const n = graph.nodes.length;
  const E = graph.edges;
  const adj: number[][] = Array.from({ length: n }, () => []);
  for (let e = 0; e < E.length; e += 3) {
    if (!edgePasses(e)) continue;
    const a = E[e];
    const b = E[e + 1];
    if (inFilter[a] && inFilter[b]) {
      adj[a].push(b);
      adj[b].push(a);
    }
  }
  const scope = new Uint8Array(n);
  scope[focusIndex] = 1;
  let frontier = [focusIndex];
  for (let d = 0; d < depth && frontier.length > 0; d++) {
    const next: number[] = [];
    for (const a of frontier) {
      for (const b of adj[a]) {
        if (!scope[b]) {
          scope[b] = 1;
          next.push(b);
        }
      }
    }
    frontier = next;
  }
  return scope;
}

/** A team's own services (scope 1: owned by the squad, in the collective or the system) and their direct neighbours (scope 2). */
function teamScope(
  graph: EstateGraph,
  inFilter: Uint8Array,
  edgePasses: (e: number) => boolean,
  teamRef: string,
): { scope: Uint8Array; neighbour: Uint8Array } {
  const n = graph.nodes.length;
  const E = graph.edges;
  const scope = new Uint8Array(n);
  const neighbour = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (!inFilter[i]) continue;
    const node = graph.nodes[i];
    const refs = [
      node.owner >= 0 ? graph.teams[node.owner].ref : '',
      node.collective >= 0 ? graph.collectives[node.collective].ref : '',
      node.system >= 0 ? graph.systems[node.system].ref : '',
    ];
    if (refs.includes(teamRef)) scope[i] = 1;
  }
  for (let e = 0; e < E.length; e += 3) {
    if (!edgePasses(e)) continue;
    const a = E[e];
    const b = E[e + 1];
    if (scope[a] === 1 && !scope[b] && inFilter[b]) {
      scope[b] = 2;
      neighbour[b] = 1;
    } else if (scope[b] === 1 && !scope[a] && inFilter[a]) {
      scope[a] = 2;
      neighbour[a] = 1;
    }
  }
  return { scope, neighbour };
}

/**
 * Every call edge touching the scope: drawn (aggregated between drawn nodes, counted inside a group) or, when
 * an end is out of scope or a filter hides it, counted as hidden on the drawn node it touches.
 */
function drawnCalls(
  graph: EstateGraph,
  scope: Uint8Array,
  shownKind: Uint8Array,
  drawnId: string[],
  edgePasses: (e: number) => boolean,
): {
  edges: VEdge[];
  hidden: Map<string, number>;
  internal: Map<string, number>;
  hiddenEdges: number;
  shownEdges: number;
} {
  const E = graph.edges;
  const hidden = new Map<string, number>();
  const internal = new Map<string, number>();
  const agg = new Map<string, VEdge>();
  let hiddenEdges = 0;
  let shownEdges = 0;
  for (let e = 0; e < E.length; e += 3) {
    const a = E[e];
    const b = E[e + 1];
    const sa = scope[a] !== 0;
    const sb = scope[b] !== 0;
    if (!sa && !sb) continue;
    // A storage link while resources are off is not hidden by a filter: the view does not show storage.
    if (!shownKind[a] || !shownKind[b]) continue;
    if (!(sa && sb) || !edgePasses(e)) {
      hiddenEdges++;
      if (sa) hidden.set(drawnId[a], (hidden.get(drawnId[a]) ?? 0) + 1);
      if (sb && (!sa || drawnId[b] !== drawnId[a])) hidden.set(drawnId[b], (hidden.get(drawnId[b]) ?? 0) + 1);
      continue;
    }
    shownEdges++;
    const from = drawnId[a];
    const to = drawnId[b];
    if (from === to) {
      internal.set(from, (internal.get(from) ?? 0) + 1);
      continue;
    }
    const key = `${from}->${to}`;
    const observedOnly = (E[e + 2] & EDGE_DECLARED) === 0;
    const declaredOnly = (E[e + 2] & EDGE_OBSERVED) === 0;
    const existing = agg.get(key);
    if (existing) {
      existing.count++;
      existing.observedOnly &&= observedOnly;
      existing.declaredOnly &&= declaredOnly;
    } else agg.set(key, { id: key, source: from, target: to, count: 1, observedOnly, declaredOnly });
  }
  const edges = [...agg.values()].sort((x, y) => (x.id < y.id ? -1 : 1));
  return { edges, hidden, internal, hiddenEdges, shownEdges };
}

/** The OVERVIEW_GROUPS groups with the most calls (in, out and inside), ties by id. */
function busiestGroups(
  members: Map<string, number[]>,
  calls: { edges: VEdge[]; internal: Map<string, number> },
): Set<string> {
  const load = new Map<string, number>();
  for (const id of members.keys()) load.set(id, calls.internal.get(id) ?? 0);
  for (const e of calls.edges) {
    load.set(e.source, (load.get(e.source) ?? 0) + e.count);
    load.set(e.target, (load.get(e.target) ?? 0) + e.count);
  }
  const ranked = [...members.keys()].sort(
    (a, b) => (load.get(b) ?? 0) - (load.get(a) ?? 0) || (a < b ? -1 : 1),
  );
  return new Set(ranked.slice(0, OVERVIEW_GROUPS));
}

/**
 * Collectives call nearly every other collective: each keeps its strongest links out and in, so the map stays
 * readable; the rest are counted in the status line, not drawn.
 */
function strongestLinks(edges: VEdge[]): { edges: VEdge[]; thinnedLinks: number } {
  const keep = new Set<string>();
  const byEnd = (end: 'source' | 'target') => {
    const lists = new Map<string, VEdge[]>();
    for (const e of edges) {
      const list = lists.get(e[end]) ?? [];
      list.push(e);
      lists.set(e[end], list);
    }
    for (const list of lists.values()) {
      list.sort((x, y) => y.count - x.count || (x.id < y.id ? -1 : 1));
      for (const e of list.slice(0, STRONGEST_LINKS)) keep.add(e.id);
    }
  };
  byEnd('source');
  byEnd('target');
  return { edges: edges.filter((e) => keep.has(e.id)), thinnedLinks: edges.length - keep.size };
}

/** An overview box: a collective (or system), its services in scope and the calls among them. */
function groupNode(
  graph: EstateGraph,
  id: string,
  list: number[],
  by: GraphViewState['group'],
  calls: number,
  hidden: number,
): VNode {
  const tierMin = list.reduce((m, i) => Math.min(m, graph.nodes[i].tier ?? 9), 9);
  const label = groupTitle(graph, id, by);
  const sub = `${list.length} service${list.length === 1 ? '' : 's'} · ${calls} call${calls === 1 ? '' : 's'} inside`;
  return {
    id,
    kind: 'group',
    label,
    sub,
    ref: id === NO_GROUP ? null : id.slice(2),
    owner: null,
    members: list.length,
    internalCalls: calls,
    hidden,
    tier: tierMin === 9 ? null : tierMin,
    ...groupBox(label, hidden > 0 ? `${sub} · +${hidden} hidden` : sub),
  };
}

/** A service (or storage) box: its name, owner and tier. */
function serviceNode(
  graph: EstateGraph,
  id: string,
  i: number,
  hidden: number,
  focus: boolean,
  neighbour: boolean,
): VNode {
  const node = graph.nodes[i];
  const owner = node.owner >= 0 ? graph.teams[node.owner].title : null;
  const sub = [
    owner ?? 'no owner',
    node.tier !== null ? `T${node.tier}` : node.kind === 'resource' ? 'storage' : '',
  ]
    .filter(Boolean)
    .join(' · ');
  return {
    id,
    kind: node.kind === 'resource' ? 'resource' : 'component',
    label: node.name,
    sub,
    ref: node.ref,
    owner,
    hidden,
    tier: node.tier,
    focus,
    neighbour,
    // The canvas draws the hidden count on the second line: the box is sized for it.
    ...serviceBox(node.name, hidden > 0 ? `${sub} · +${hidden} hidden` : sub),
  };
}

export interface Point {
  x: number;
  y: number;
}

const GAP_LAYERS = 64;
const GAP_NODES = 16;
/** Between the columns one tall layer wraps into: no arrows run between them, so less room. */
const GAP_WRAP = 28;

/** How many boxes one layer may hold so that the layered drawing has about the canvas's aspect ratio. */
export function layerBound(nodes: readonly { w: number; h: number }[], aspect: number): number {
  const n = nodes.length;
  if (n === 0) return 1;
  const w = nodes.reduce((s, v) => s + v.w, 0) / n + GAP_LAYERS;
  const h = nodes.reduce((s, v) => s + v.h, 0) / n + GAP_NODES;
  // layers × w ≈ aspect × bound × h, with layers ≈ n / bound.
  return Math.max(4, Math.ceil(Math.sqrt((n * w) / (Math.max(0.3, aspect) * h))));
}

/**
 * Node centres for a view, callers left of callees. A team view, and a focus view of one hop, put what they
 * are about in the middle (the team's own services, layered; or the focus) with its callers in columns on the
 * left and its callees on the right. Other views are layered throughout, tall layers wrapped into columns.
 * Either way the columns' height is chosen so the drawing is largest on a canvas of this aspect ratio. Boxes
 * are sized from their labels, so boxes that do not overlap means labels that do not overlap.
 */
export function layoutView(view: GraphView, aspect: number): Map<string, Point> {
  const size = new Map(view.nodes.map((v) => [v.id, v]));
  const sizeOf = (id: string) => size.get(id) ?? { w: 100, h: 40 };
  const edges = view.edges.map((e) => [e.source, e.target] as const);
  const overview = view.mode === 'overview';
  const layered = (nodes: VNode[], links: (readonly [string, string])[]) =>
    fittedLayeredLayout(
      nodes.map((v) => v.id),
      links,
      sizeOf,
      aspect,
      layerBound(nodes, aspect),
      (bound) => ({
        // The overview's few boxes get room between them for the call counts on its arrows.
        gapX: overview ? 2 * GAP_LAYERS : GAP_LAYERS,
        gapY: overview ? 3 * GAP_NODES : GAP_NODES,
        gapWrap: overview ? 2 * GAP_LAYERS : GAP_WRAP,
        maxPerColumn: bound,
        // Long call chains would make a strip many layers wide: squeeze them (keeping left-to-right order)
        // so the columns, tall layers wrapped, fill the canvas about evenly.
        maxLayers: Math.max(3, Math.ceil(Math.ceil(nodes.length / bound) * 0.7)),
      }),
    );
  if (overview) return overviewLayout(view, edges, sizeOf, aspect, layered(view.nodes, edges)).positions;
  // Deeper focus views keep their hops as layers: that is their story.
  const core = view.mode === 'focus' && view.depth > 1 ? null : coreOf(view);
  if (!core) return layered(view.nodes, edges).positions;
  const inCore = new Set(core.map((v) => v.id));
  const callsCore = new Set(edges.filter(([a, b]) => !inCore.has(a) && inCore.has(b)).map(([a]) => a));
  const rest = view.nodes.filter((v) => !inCore.has(v.id));
  return bandedLayout({
    core: layered(
      core,
      edges.filter(([a, b]) => inCore.has(a) && inCore.has(b)),
    ),
    left: rest.filter((v) => callsCore.has(v.id)).map((v) => v.id),
    right: rest.filter((v) => !callsCore.has(v.id)).map((v) => v.id),
    edges,
    size: sizeOf,
    aspect,
    gapX: GAP_LAYERS,
    gapY: GAP_NODES,
    gapWrap: GAP_WRAP,
  }).positions;
}

/**
 * The overview's boxes (more than THIN_ABOVE_GROUPS, at most OVERVIEW_GROUPS) dealt evenly, in layer order, into 2–6 columns when that
 * draws them larger than their own layers do: its layers are uneven (many groups only call), and a tall first
 * layer wrapped into two columns makes the map wider than the canvas. Callers still come before callees,
 * with some calls between boxes of one column.
 */
function overviewLayout(
  view: GraphView,
  edges: (readonly [string, string])[],
  size: (id: string) => Box,
  aspect: number,
  layered: LayoutResult,
): LayoutResult {
  let best = layered;
  const ids = view.nodes.map((v) => v.id);
  // A few groups read well in their own layers, each call left to right.
  if (ids.length <= THIN_ABOVE_GROUPS) return best;
  for (let columns = 2; columns <= Math.min(6, ids.length - 1); columns++) {
    const r = layeredLayout(ids, edges, size, {
      gapX: 2 * GAP_LAYERS,
      gapY: 3 * GAP_NODES,
      balance: columns,
      maxPerColumn: Math.ceil(ids.length / columns),
    });
    if (fitScale(r, aspect) > fitScale(best, aspect)) best = r;
  }
  return best;
}

/**
 * What a view is about: a team view's own services, or a focus view's focus. A team view and a one-hop
 * focus view draw it in the middle; the canvas opens on it when the whole drawing is too large to read.
 */
export function coreOf(view: GraphView): VNode[] | null {
  const core =
    view.mode === 'team'
      ? view.nodes.filter((v) => !v.neighbour)
      : view.mode === 'focus'
        ? view.nodes.filter((v) => v.focus)
        : [];
  return core.length > 0 ? core : null;
}
