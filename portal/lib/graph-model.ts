import { EDGE_DECLARED, EDGE_OBSERVED, type EstateGraph, type EstateNode } from './estate.ts';
import { layeredLayout } from './graph-layout.ts';

export interface GraphViewState {
  focus: string;
  depth: number;
  group: 'collective' | 'system';
  expand: string[];
  tier: string[];
  team: string;
  edges: 'any' | 'declared' | 'observed';
  resources: boolean;
}

export interface VNode {
  id: string;
  kind: 'group' | 'component' | 'resource';
  label: string;
  /** The entity ref for services; the group ref for groups (null for the "no group" bucket). */
  ref: string | null;
  /** For services inside an expanded group: the compound parent's id. */
  parent?: string;
  expanded?: boolean;
  /** Services in scope inside a group node. */
  members?: number;
  /** Calls between services of a collapsed group (drawn as one number, not as edges). */
  internalCalls?: number;
  /** Edges touching this node that a filter, the focus depth or nothing-in-scope hides. */
  hidden: number;
  tier: number | null;
  focus?: boolean;
  x: number;
  y: number;
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
  nodes: VNode[];
  edges: VEdge[];
  /** Services (and resources) in scope after filters and focus. */
  inScope: number;
  /** Call edges drawn (inside aggregates included). */
  shownEdges: number;
  /** Call edges touching the scope that are hidden (by filter or focus depth); each is counted on a node. */
  hiddenEdges: number;
  totalEdges: number;
  /** The focus as resolved (a ref), null when none; `focusMissing` when the name matched nothing. */
  focusRef: string | null;
  focusMissing: boolean;
}

export const NO_GROUP = 'g:none';
const GROUP_BOX = { w: 250, h: 96 };
const NODE_BOX = { w: 150, h: 40 };
const PAD = 28;

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

/**
 * Turns the estate graph and the view state into what is drawn: services grouped into collectives or
 * systems (collapsed groups are one node; expanded groups are compound nodes with their services),
 * calls aggregated between drawn nodes with counts, and every hidden edge counted on the node it
 * touches, never dropped silently. Positions come from the layered layout (callers left, callees right).
 */
export function buildGraphView(graph: EstateGraph, state: GraphViewState): GraphView {
  const n = graph.nodes.length;
  const teamRef = state.team.trim().toLowerCase();
  const tiers = new Set(state.tier);
  const inFilter = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const node = graph.nodes[i];
    if (node.kind === 'resource' && !state.resources) continue;
    if (node.kind !== 'component' && node.kind !== 'resource') continue;
    if (tiers.size > 0 && !tiers.has(node.tier === null ? 'unknown' : String(node.tier))) continue;
    if (teamRef) {
      const owner = node.owner >= 0 ? graph.teams[node.owner].ref : '';
      const coll = node.collective >= 0 ? graph.collectives[node.collective].ref : '';
      if (owner !== teamRef && coll !== teamRef) continue;
    }
    inFilter[i] = 1;
  }
  const edgeMask =
    state.edges === 'declared' ? EDGE_DECLARED : state.edges === 'observed' ? EDGE_OBSERVED : 3;
  const E = graph.edges;
  const edgePasses = (e: number) => (E[e + 2] & edgeMask) !== 0;

  // Focus: breadth-first over passing edges, both directions, within the filter.
  const focusIndex = state.focus ? findNode(graph, state.focus) : -1;
  let scope = inFilter;
  if (focusIndex >= 0) {
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
    scope = new Uint8Array(n);
    scope[focusIndex] = 1;
    let frontier = [focusIndex];
    for (let d = 0; d < state.depth && frontier.length > 0; d++) {
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
  }

  const groupIds = groupIdsOf(graph, state.group);
  const expanded = new Set(state.expand.map((g) => (g.startsWith('g:') ? g : `g:${g}`)));
  if (focusIndex >= 0) expanded.add(groupIdOf(graph, graph.nodes[focusIndex], state.group));
  const drawnId = new Array<string>(n);
  const groupMembers = new Map<string, number[]>();
  let inScope = 0;
  for (let i = 0; i < n; i++) {
    if (!scope[i]) continue;
    inScope++;
    const g = groupIds[i];
    drawnId[i] = expanded.has(g) ? `n:${graph.nodes[i].ref}` : g;
    const list = groupMembers.get(g) ?? [];
    list.push(i);
    groupMembers.set(g, list);
  }

  const hidden = new Map<string, number>();
  const internal = new Map<string, number>();
  const agg = new Map<string, VEdge>();
  let hiddenEdges = 0;
  let shownEdges = 0;
  for (let e = 0; e < E.length; e += 3) {
    const a = E[e];
    const b = E[e + 1];
    const sa = scope[a] === 1;
    const sb = scope[b] === 1;
    if (!sa && !sb) continue;
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

  // Nodes and layout: inner layouts for expanded groups, then the outer layout over groups.
  const edges = [...agg.values()].sort((x, y) => (x.id < y.id ? -1 : 1));
  const nodes: VNode[] = [];
  const units: string[] = [];
  const unitBox = new Map<string, { w: number; h: number }>();
  const inner = new Map<string, Map<string, { x: number; y: number }>>();
  const unitOf = new Map<string, string>();
  const drawnGroups = [...groupMembers.keys()].sort();
  for (const g of drawnGroups) {
    const members = groupMembers.get(g) as number[];
    const ref = g === NO_GROUP ? null : g.slice(2);
    if (!expanded.has(g)) {
      units.push(g);
      unitBox.set(g, GROUP_BOX);
      unitOf.set(g, g);
      continue;
    }
    const ids = members.map((i) => drawnId[i]);
    for (const id of ids) unitOf.set(id, g);
    const memberSet = new Set(ids);
    const innerEdges = edges
      .filter((e) => memberSet.has(e.source) && memberSet.has(e.target))
      .map((e) => [e.source, e.target] as const);
    const lay = layeredLayout(ids, innerEdges, () => NODE_BOX, { gapX: 50, gapY: 14, maxPerColumn: 14 });
    inner.set(g, lay.positions);
    units.push(g);
    unitBox.set(g, { w: lay.width + 2 * PAD, h: lay.height + 2 * PAD + 20 });
    nodes.push({
      id: g,
      kind: 'group',
      label: groupTitle(graph, g, state.group),
      ref,
      expanded: true,
      members: members.length,
      hidden: 0,
      tier: null,
      x: 0,
      y: 0,
      w: 0,
      h: 0,
    });
  }
  const unitEdges = new Map<string, readonly [string, string]>();
  for (const e of edges) {
    const a = unitOf.get(e.source);
    const b = unitOf.get(e.target);
    if (a && b && a !== b) unitEdges.set(`${a}->${b}`, [a, b]);
  }
  const outer = layeredLayout(units, [...unitEdges.values()], (id) => unitBox.get(id) ?? GROUP_BOX, {
    gapX: 90,
    gapY: 32,
    // Roughly square for many groups (90 collectives at 3,500 services); for the bank's nine collectives,
    // three columns, so the overview fits the canvas at a size that can be read.
    maxPerColumn: Math.max(6, Math.ceil(Math.sqrt(units.length * 2))),
    maxLayers: units.length <= 12 ? 3 : 4,
  });
  for (const g of drawnGroups) {
    const centre = outer.positions.get(g) ?? { x: 0, y: 0 };
    const box = unitBox.get(g) ?? GROUP_BOX;
    const members = groupMembers.get(g) as number[];
    if (!expanded.has(g)) {
      const tierMin = members.reduce((m, i) => Math.min(m, graph.nodes[i].tier ?? 9), 9);
      nodes.push({
        id: g,
        kind: 'group',
        label: groupTitle(graph, g, state.group),
        ref: g === NO_GROUP ? null : g.slice(2),
        expanded: false,
        members: members.length,
        internalCalls: internal.get(g) ?? 0,
        hidden: hidden.get(g) ?? 0,
        tier: tierMin === 9 ? null : tierMin,
        x: centre.x,
        y: centre.y,
        ...GROUP_BOX,
      });
      continue;
    }
    const positions = inner.get(g) as Map<string, { x: number; y: number }>;
    const left = centre.x - box.w / 2 + PAD;
    const top = centre.y - box.h / 2 + PAD + 20;
    const group = nodes.find((v) => v.id === g) as VNode;
    Object.assign(group, { x: centre.x, y: centre.y, w: box.w, h: box.h, hidden: 0 });
    for (const i of members) {
      const node = graph.nodes[i];
      const id = drawnId[i];
      const p = positions.get(id) ?? { x: 0, y: 0 };
      nodes.push({
        id,
        kind: node.kind === 'resource' ? 'resource' : 'component',
        label: node.name,
        ref: node.ref,
        parent: g,
        hidden: hidden.get(id) ?? 0,
        tier: node.tier,
        focus: i === focusIndex,
        x: left + p.x,
        y: top + p.y,
        ...NODE_BOX,
      });
    }
  }
  return {
    nodes,
    edges,
    inScope,
    shownEdges,
    hiddenEdges,
    totalEdges: E.length / 3,
    focusRef: focusIndex >= 0 ? graph.nodes[focusIndex].ref : null,
    focusMissing: state.focus !== '' && focusIndex < 0,
  };
}
