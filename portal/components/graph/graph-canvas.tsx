'use client';
import cytoscape, { type Core, type ElementDefinition, type StylesheetJson } from 'cytoscape';
import { useEffect, useMemo, useRef } from 'react';
import { type GraphView, layoutView, type Point } from '../../lib/graph-model.ts';
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
      classes: [n.kind, n.focus ? 'focus' : '', n.neighbour ? 'neighbour' : '', n.tier ? `t${n.tier}` : '']
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

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    el.dataset.ready = 'false';
    if (!cyRef.current) cyRef.current = createCy(el, handlers);
    draw(cyRef.current, el, view);
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
    if (selected) cy.getElementById(selected).select();
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
  const fit = () => cyRef.current?.fit(undefined, 24);
  const onKey = (e: React.KeyboardEvent) => {
    const cy = cyRef.current;
    if (cy && navigate(cy, e.key)) e.preventDefault();
  };

  return (
    <>
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

/** The cytoscape instance on the canvas's element (kept there for journeys); a tap selects, a double tap activates. */
function createCy(el: HTMLDivElement, handlers: { current: Pick<Props, 'onSelect' | 'onActivate'> }): Core {
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
  (el as CanvasElement).cy = cy;
  return cy;
}

/** Lays the view out to the canvas's shape, draws it and fits it (no closer than 1.2×); marks the canvas ready. */
function draw(cy: Core, el: HTMLDivElement, view: GraphView): void {
  cy.style(canvasStyle());
  const positions = layoutView(view, el.clientWidth / Math.max(1, el.clientHeight));
  cy.batch(() => {
    cy.elements().remove();
    cy.add(elements(view, positions));
  });
  cy.fit(undefined, 24);
  if (cy.zoom() > 1.2) {
    cy.zoom(1.2);
    cy.center();
  }
  el.dataset.ready = 'true';
  el.dataset.nodes = String(view.nodes.length);
}

/** Boxes and arrows in the page's colours (read now: the theme may have changed since the last drawing). */
function canvasStyle(): StylesheetJson {
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
        opacity: 0.75,
        label: 'data(label)',
        'font-size': 10,
        color: css('--text-2'),
        'text-background-color': css('--surface'),
        'text-background-opacity': 0.9,
        'text-background-padding': '2px',
      },
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
  else if (key === '0') cy.fit(undefined, 24);
  else return false;
  return true;
}
