'use client';
import cytoscape, { type Core, type ElementDefinition } from 'cytoscape';
import { useEffect, useMemo, useRef } from 'react';
import type { GraphView } from '../../lib/graph-model.ts';
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

function elements(view: GraphView): ElementDefinition[] {
  const out: ElementDefinition[] = [];
  for (const n of view.nodes) {
    const hidden = n.hidden > 0 ? `\n+${n.hidden} hidden` : '';
    let label = n.label;
    if (n.kind === 'group' && !n.expanded) {
      label = `${n.label}\n${n.members} service${n.members === 1 ? '' : 's'}, ${n.internalCalls} calls inside${hidden}`;
    } else if (n.kind === 'group') {
      label = `${n.label} (${n.members})`;
    } else label = `${n.label}${hidden}`;
    out.push({
      group: 'nodes',
      data: { id: n.id, label, kind: n.kind, tier: n.tier ?? 0, parent: n.parent, w: n.w, h: n.h },
      position: { x: n.x, y: n.y },
      classes: [
        n.kind,
        n.expanded ? 'expanded' : n.kind === 'group' ? 'collapsed' : '',
        n.focus ? 'focus' : '',
        n.tier ? `t${n.tier}` : '',
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

/**
 * The cytoscape canvas. Positions come precomputed (layered layout in lib/graph-model), so the layout is
 * `preset` and `layoutstop` follows at once; the container's `data-ready` turns true then.
 */
export function GraphCanvas({ view, selected, onSelect, onActivate, errorRates }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const cyRef = useRef<Core | null>(null);
  const handlers = useRef({ onSelect, onActivate });
  const selectedRef = useRef(selected);
  selectedRef.current = selected;
  handlers.current = { onSelect, onActivate };

  useEffect(() => {
    let cancelled = false;
    const el = box.current;
    if (!el) return;
    el.dataset.ready = 'false';
    (async () => {
      let cy = cyRef.current;
      if (!cy) {
        cy = cytoscape({
          container: el,
          minZoom: 0.05,
          maxZoom: 2.5,
          wheelSensitivity: 0.3,
          boxSelectionEnabled: false,
          autoungrabify: true,
          textureOnViewport: true,
          hideEdgesOnViewport: true,
          pixelRatio: 1,
        });
        cy.on('tap', 'node', (evt) => handlers.current.onSelect(evt.target.id()));
        cy.on('dbltap', 'node', (evt) => handlers.current.onActivate(evt.target.id()));
        cyRef.current = cy;
      }
      const edge = css('--graph-edge');
      const text = css('--text');
      cy.style([
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
            'font-family': 'system-ui, sans-serif',
            color: text,
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
          selector: 'node.collapsed',
          style: {
            'background-color': css('--graph-group'),
            'border-color': css('--graph-group-border'),
            'border-width': 2,
            'font-weight': 600,
            'font-size': 15,
            'line-height': 1.3,
          },
        },
        {
          selector: 'node.expanded',
          style: {
            'background-color': css('--graph-group'),
            'background-opacity': 0.45,
            'border-color': css('--graph-group-border'),
            'border-style': 'dashed',
            'text-valign': 'top',
            'text-halign': 'center',
            'text-margin-y': 22,
            'font-weight': 700,
            'font-size': 14,
            padding: '18px',
          },
        },
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
            'curve-style': 'bezier',
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
      ]);
      cy.batch(() => {
        cy.elements().remove();
        cy.add(elements(view));
      });
      const layout = cy.layout({ name: 'preset', fit: true, padding: 30 });
      layout.one('layoutstop', () => {
        // A focus view keeps its centre readable: zoom in on the focus rather than fit everything tiny.
        // Just expanded a group: show that group; otherwise keep the focus readable rather than fit it tiny.
        const picked = selectedRef.current ? cy.getElementById(selectedRef.current) : cy.collection();
        const focus = cy.$('node.focus');
        if (picked.nonempty() && picked.hasClass('expanded')) {
          cy.fit(picked, 40);
          if (cy.zoom() > 1.2) cy.zoom({ level: 1.2, position: picked.position() });
        } else if (focus.nonempty() && cy.zoom() < 0.85) {
          cy.zoom(0.85);
          cy.center(focus);
        } else if (focus.empty() && cy.zoom() < 0.5) {
          // Too many groups to read at fit: start readable at the top left (the first callers); pan for more.
          const box = cy.elements().boundingBox();
          cy.zoom(0.5);
          cy.pan({ x: 24 - box.x1 * 0.5, y: 24 - box.y1 * 0.5 });
        }
        if (!cancelled && box.current) {
          box.current.dataset.ready = 'true';
          box.current.dataset.nodes = String(view.nodes.length);
        }
      });
      layout.run();
    })();
    return () => {
      cancelled = true;
    };
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

  return (
    <div
      ref={box}
      className="cy"
      data-testid="graph-canvas"
      data-ready="false"
      data-observed-only-edges={view.edges.filter((e) => e.observedOnly).length}
      data-declared-only-edges={view.edges.filter((e) => e.declaredOnly && !e.observedOnly).length}
      data-failing-edges={[...bands.values()].filter((b) => b === 'failing').length}
      data-degraded-edges={[...bands.values()].filter((b) => b === 'degraded').length}
      role="img"
      aria-label={`Call graph: ${view.nodes.length} nodes and ${view.edges.length} drawn edges; use the panel on the left to expand groups and the search to focus a service`}
    />
  );
}
