'use client';
import cytoscape, {
  type BoundingBox12,
  type BoundingBoxWH,
  type Core,
  type ElementDefinition,
  type StylesheetJson,
} from 'cytoscape';
import { useEffect, useMemo, useRef, useState } from 'react';
import { coreOf, type GraphView, layoutView, type Point } from '../../lib/graph-model.ts';
import { type ErrorBand, errorBand } from '../traffic/edge-health';

interface Props {
  view: GraphView;
  selected: string;
  onSelect: (id: string) => void;
  onActivate: (id: string) => void;
  /** Observed error rate per caller → callee (`${fromRef}>${toRef}`, components/traffic/edge-health). */
  errorRates?: ReadonlyMap<string, { errorRate: number }>;
}

/** The error band of each drawn service → service edge with traffic (group edges stand for many calls). */
function edgeBands(view: GraphView, errorRates: Props['errorRates']): Map<string, ErrorBand> {
  const out = new Map<string, ErrorBand>();
  if (!errorRates || errorRates.size === 0) return out;
  for (const e of view.edges) {
    if (!e.source.startsWith('n:') || !e.target.startsWith('n:')) continue;
    const seen = errorRates.get(`${e.source.slice(2)}>${e.target.slice(2)}`);
    if (seen) out.set(e.id, errorBand(seen.errorRate));
  }
  return out;
}

function css(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

function elements(view: GraphView, positions: Map<string, Point>): ElementDefinition[] {
  const out: ElementDefinition[] = [];
  const core = new Set(coreOf(view)?.map((v) => v.id));
  for (const n of view.nodes) {
    const hidden = n.hidden > 0 ? ` · +${n.hidden} hidden` : '';
    out.push({
      group: 'nodes',
      data: {
        id: n.id,
        label: `${n.label}\n${n.sub}${hidden}`,
        kind: n.kind,
        tier: n.tier ?? 0,
        w: n.w,
        h: n.h,
      },
      position: positions.get(n.id) ?? { x: 0, y: 0 },
      classes: [
        n.kind,
        n.focus ? 'focus' : '',
        n.neighbour ? 'neighbour' : '',
        n.tier ? `t${n.tier}` : '',
        core.has(n.id) ? 'core' : '',
      ]
        .filter(Boolean)
        .join(' '),
    });
  }
  // Declared-only edges are told apart only once some traffic is seen: before that every edge is declared-only.
  const anyObserved = view.edges.some((e) => !e.declaredOnly);
  for (const e of view.edges) {
    out.push({
      group: 'edges',
      data: {
        id: e.id,
        source: e.source,
        target: e.target,
        count: e.count,
        label: e.count > 1 ? String(e.count) : '',
      },
      classes: e.observedOnly ? 'observed' : anyObserved && e.declaredOnly ? 'declared-only' : '',
    });
  }
  return out;
}

/** The canvas's cytoscape instance, kept on its element so journeys can read what is on screen. */
export type CanvasElement = HTMLDivElement & { cy?: Core };

/**
 * The cytoscape canvas. Positions come from the layered layout (lib/graph-model `layoutView`, shaped to the
 * canvas); the whole drawing is fitted into view, and `data-ready` turns true once it is drawn. Zoom
 * buttons, the wheel and the keyboard (arrows pan, + − zoom, 0 fits) move around it.
 */
export function GraphCanvas({ view, selected, onSelect, onActivate, errorRates }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const cyRef = useRef<Core | null>(null);
  const handlers = useRef({ onSelect, onActivate });
  handlers.current = { onSelect, onActivate };
  const [inView, setInView] = useState<InView>({ shown: 0, total: 0 });
  const onViewport = useRef(setInView);
  onViewport.current = setInView;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    el.dataset.ready = 'false';
    if (!cyRef.current) cyRef.current = createCy(el, handlers, onViewport);
    draw(cyRef.current, el, view);
    setInView(countInView(cyRef.current));
  }, [view]);

  const bands = useMemo(() => edgeBands(view, errorRates), [view, errorRates]);
  // Health arrives after the graph: recolour the drawn edges without laying anything out again.
  // biome-ignore lint/correctness/useExhaustiveDependencies: re-applied after each redraw too
  useEffect(() => {
    const cy = cyRef.current;
    if (!cy) return;
    cy.batch(() => {
      cy.edges().removeClass('errors-failing errors-degraded');
      for (const [id, band] of bands)
        if (band !== 'healthy') cy.getElementById(id).addClass(`errors-${band}`);
    });
  }, [bands, view]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: re-apply the selection after each redraw
  useEffect(() => {
    const cy = cyRef.current;
    if (!cy) return;
    cy.$(':selected').unselect();
    const node = selected ? cy.getElementById(selected) : null;
    if (node?.nonempty()) {
      node.select();
      // Picked in the table or the side panel while off screen: bring it into view.
      const b = node.boundingBox({});
      const e = cy.extent();
      if (b.x1 < e.x1 || b.x2 > e.x2 || b.y1 < e.y1 || b.y2 > e.y2) cy.center(node);
    }
    // The arrows of the selected box (else of the focus) stand out of the others.
    const picked = selected ? cy.getElementById(selected) : cy.nodes('.focus');
    cy.batch(() => {
      cy.edges('.near').removeClass('near');
      picked.connectedEdges().addClass('near');
    });
  }, [selected, view]);

  useEffect(
    () => () => {
      cyRef.current?.destroy();
      cyRef.current = null;
    },
    [],
  );

  const zoomBy = (factor: number) => {
    const cy = cyRef.current;
    if (cy) zoomAtCentre(cy, factor);
  };
  const fit = () => {
    const cy = cyRef.current;
    if (cy) fitAll(cy);
  };
  const onKey = (e: React.KeyboardEvent) => {
    const cy = cyRef.current;
    if (cy && navigate(cy, e.key)) e.preventDefault();
  };

  return (
    <>
      {inView.shown < inView.total && (
        <div className="graph-in-view" data-testid="graph-in-view" role="status">
          {inView.shown} of {inView.total} boxes in view, at a size you can read · drag, arrow keys or{' '}
          <button type="button" className="link-btn" onClick={fit}>
            fit all
          </button>
        </div>
      )}
      <div className="graph-zoom" role="toolbar" aria-label="Zoom">
        <button type="button" className="btn small" aria-label="Zoom in" onClick={() => zoomBy(1.25)}>
          +
        </button>
        <button type="button" className="btn small" aria-label="Zoom out" onClick={() => zoomBy(0.8)}>
          −
        </button>
        <button type="button" className="btn small" onClick={fit}>
          Fit
        </button>
      </div>
      <div
        ref={box}
        className="cy"
        data-testid="graph-canvas"
        data-ready="false"
        data-observed-only-edges={view.edges.filter((e) => e.observedOnly).length}
        data-declared-only-edges={view.edges.filter((e) => e.declaredOnly && !e.observedOnly).length}
        data-failing-edges={[...bands.values()].filter((b) => b === 'failing').length}
        data-degraded-edges={[...bands.values()].filter((b) => b === 'degraded').length}
        // biome-ignore lint/a11y/noNoninteractiveTabindex: the canvas pans with the arrow keys
        tabIndex={0}
        onKeyDown={onKey}
        role="img"
        aria-label={`Call graph: ${view.nodes.length} nodes and ${view.edges.length} drawn edges (listed in the table below). Arrow keys pan, + and − zoom, 0 fits.`}
      />
    </>
  );
}

/** How many of the drawn boxes lie wholly inside the canvas. */
interface InView {
  shown: number;
  total: number;
}

function countInView(cy: Core): InView {
  const e = cy.extent();
  let shown = 0;
  // From each box's centre and size (its data), not boundingBox(): this runs once a frame while panning, over
  // up to tens of thousands of boxes.
  cy.nodes().forEach((n) => {
    const p = n.position();
    // Half the widest border (the focus's, 4 px) beyond the box.
    const w = (n.data('w') as number) / 2 + 2;
    const h = (n.data('h') as number) / 2 + 2;
    if (p.x - w >= e.x1 - 1 && p.x + w <= e.x2 + 1 && p.y - h >= e.y1 - 1 && p.y + h <= e.y2 + 1) shown++;
  });
  return { shown, total: cy.nodes().length };
}

/**
 * The cytoscape instance on the canvas's element (kept there for journeys); a tap selects, a double tap
 * activates; after each pan or zoom, once per frame, how many boxes are in view.
 */
function createCy(
  el: HTMLDivElement,
  handlers: { current: Pick<Props, 'onSelect' | 'onActivate'> },
  onViewport: { current: (inView: InView) => void },
): Core {
  const cy = cytoscape({
    container: el,
    minZoom: 0.02,
    maxZoom: 3,
    boxSelectionEnabled: false,
    autoungrabify: true,
    textureOnViewport: true,
    hideEdgesOnViewport: true,
    pixelRatio: 1,
  });
  cy.on('tap', 'node', (evt) => handlers.current.onSelect(evt.target.id()));
  cy.on('dbltap', 'node', (evt) => handlers.current.onActivate(evt.target.id()));
  let frame = 0;
  cy.on('viewport', () => {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      onViewport.current(countInView(cy));
    });
  });
  (el as CanvasElement).cy = cy;
  return cy;
}

/** Labels are 12 px: below this zoom they are drawn under 9 px, too small to read at a glance. */
export const READABLE_ZOOM = 0.75;
/** Where the canvas opens when the whole drawing cannot be read: labels at ~11 px. */
const OPEN_ZOOM = 0.9;

/**
 * Lays the view out to the canvas's shape and draws it. It opens fitted (no closer than 1.2×) when that can be
 * read; otherwise on what the view is about (the team's own services, the focus) at a size that can be read,
 * with the rest a pan away and Fit showing all. Marks the canvas ready, and `data-framed` says which.
 */
function draw(cy: Core, el: HTMLDivElement, view: GraphView): void {
  cy.style(canvasStyle(view.edges.length > DENSE_EDGES));
  const positions = layoutView(view, el.clientWidth / Math.max(1, el.clientHeight));
  cy.batch(() => {
    cy.elements().remove();
    cy.add(elements(view, positions));
  });
  let framed = 'all';
  const core = cy.nodes('.core');
  if (fitZoom(cy, cy.elements()) < READABLE_ZOOM && core.nonempty()) {
    // Open on the core: all of it when that can be read (no closer than OPEN_ZOOM, to show its neighbours
    // too), otherwise its middle at OPEN_ZOOM. The overview (at most OVERVIEW_GROUPS boxes) stays a map.
    framed = 'core';
    const zoom = fitZoom(cy, core);
    frame(cy, core, zoom < READABLE_ZOOM ? OPEN_ZOOM : Math.min(zoom, OPEN_ZOOM));
  } else fitAll(cy);
  el.dataset.ready = 'true';
  el.dataset.framed = framed;
  el.dataset.nodes = String(view.nodes.length);
}

/** Elements (all, or some nodes) whose box is framed. */
interface Boxed {
  boundingBox(options?: object): BoundingBox12 & BoundingBoxWH;
}

/** The canvas's margins that the zoom buttons and the in-view notice (top) and the status line (bottom) cover. */
const COVERED = { top: 56, right: 16, bottom: 46, left: 16 };

/** The zoom at which `eles` fill the canvas between the covered margins. */
function fitZoom(cy: Core, eles: Boxed): number {
  const b = eles.boundingBox({});
  const w = Math.max(1, cy.width() - COVERED.left - COVERED.right);
  const h = Math.max(1, cy.height() - COVERED.top - COVERED.bottom);
  return Math.min(w / Math.max(1, b.w), h / Math.max(1, b.h));
}

/** Zoom to `zoom` with `eles` centred between the covered margins. */
function frame(cy: Core, eles: Boxed, zoom: number): void {
  const b = eles.boundingBox({});
  const z = Math.max(cy.minZoom(), Math.min(cy.maxZoom(), zoom));
  const w = cy.width() - COVERED.left - COVERED.right;
  const h = cy.height() - COVERED.top - COVERED.bottom;
  cy.viewport({
    zoom: z,
    pan: {
      x: COVERED.left + w / 2 - ((b.x1 + b.x2) / 2) * z,
      y: COVERED.top + h / 2 - ((b.y1 + b.y2) / 2) * z,
    },
  });
}

/** Everything in view, clear of the buttons and the status line, no closer than 1.2×. */
function fitAll(cy: Core): void {
  frame(cy, cy.elements(), Math.min(1.2, fitZoom(cy, cy.elements())));
}

/** Above this many arrows they are drawn faint, so the boxes and the selected box's arrows can be read. */
const DENSE_EDGES = 250;

/** Boxes and arrows in the page's colours (read now: the theme may have changed since the last drawing). */
function canvasStyle(dense: boolean): StylesheetJson {
  const edge = css('--graph-edge');
  return [
    {
      selector: 'node',
      style: {
        shape: 'round-rectangle',
        width: 'data(w)',
        height: 'data(h)',
        label: 'data(label)',
        'text-wrap': 'wrap',
        'text-valign': 'center',
        'text-halign': 'center',
        'font-size': 12,
        'line-height': 1.35,
        'min-zoomed-font-size': 5,
        'font-family': 'system-ui, sans-serif',
        color: css('--text'),
        'background-color': css('--surface'),
        'border-width': 1.5,
        'border-color': css('--border'),
      },
    },
    { selector: 'node.t1', style: { 'border-color': css('--tier1'), 'border-width': 2.5 } },
    { selector: 'node.t2', style: { 'border-color': css('--tier2'), 'border-width': 2 } },
    { selector: 'node.t3', style: { 'border-color': css('--tier3') } },
    { selector: 'node.resource', style: { shape: 'barrel', 'background-color': css('--surface-2') } },
    {
      selector: 'node.group',
      style: {
        'background-color': css('--graph-group'),
        'border-color': css('--graph-group-border'),
        'border-width': 2,
        'font-weight': 600,
      },
    },
    { selector: 'node.neighbour', style: { 'border-style': 'dashed', color: css('--text-2') } },
    {
      selector: 'node.focus',
      style: { 'border-color': css('--brand'), 'border-width': 4, 'font-weight': 700 },
    },
    {
      selector: 'node:selected',
      style: { 'overlay-color': css('--focus'), 'overlay-opacity': 0.25, 'overlay-padding': 6 },
    },
    {
      selector: 'edge',
      style: {
        width: 'mapData(count, 1, 60, 1.2, 7)',
        'line-color': edge,
        'target-arrow-color': edge,
        'target-arrow-shape': 'triangle',
        'curve-style': 'straight',
        'arrow-scale': 0.9,
        opacity: dense ? 0.22 : 0.75,
        label: 'data(label)',
        'font-size': 10,
        color: css('--text-2'),
        'text-background-color': css('--surface'),
        'text-background-opacity': 0.9,
        'text-background-padding': '2px',
      },
    },
    {
      selector: 'edge.near',
      style: { opacity: 1, 'z-index': 2 },
    },
    {
      selector: 'edge.observed',
      style: { 'line-style': 'dashed', 'line-color': css('--warn'), 'target-arrow-color': css('--warn') },
    },
    { selector: 'edge.declared-only', style: { 'line-style': 'dotted', opacity: 0.35 } },
    // Error rate over the line's colour; its style (solid, dashed) still says declared or not.
    {
      selector: 'edge.errors-failing',
      style: {
        'line-color': css('--danger'),
        'target-arrow-color': css('--danger'),
        width: 'mapData(count, 1, 60, 3, 8)',
        opacity: 1,
      },
    },
    {
      selector: 'edge.errors-degraded',
      style: { 'line-color': css('--danger'), 'target-arrow-color': css('--danger'), opacity: 0.5 },
    },
  ];
}

function zoomAtCentre(cy: Core, factor: number): void {
  cy.zoom({
    level: Math.min(cy.maxZoom(), Math.max(cy.minZoom(), cy.zoom() * factor)),
    renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 },
  });
}

const PAN_STEP = 80;
const PAN: Record<string, [number, number]> = {
  ArrowLeft: [PAN_STEP, 0],
  ArrowRight: [-PAN_STEP, 0],
  ArrowUp: [0, PAN_STEP],
  ArrowDown: [0, -PAN_STEP],
};

/** A key on the focused canvas: arrows pan, + and − zoom, 0 fits. False for any other key. */
function navigate(cy: Core, key: string): boolean {
  const pan = PAN[key];
  if (pan) cy.panBy({ x: pan[0], y: pan[1] });
  else if (key === '+' || key === '=') zoomAtCentre(cy, 1.25);
  else if (key === '-') zoomAtCentre(cy, 0.8);
  else if (key === '0') fitAll(cy);
  else return false;
  return true;
}
