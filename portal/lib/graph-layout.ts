/**
 * A small layered layout (Sugiyama-style, simplified) for call direction: callers on the left, callees to
 * the right. Cycles are broken by ignoring DFS back edges, layers come from the longest path, order within
 * a layer from two barycentre sweeps, and tall layers wrap into several columns. Deterministic and linear
 * enough for a few thousand nodes, so it runs in the browser in milliseconds, where cytoscape's force
 * layouts take seconds (toolchain notes: cose ≈ 2.3 s at 350 nodes).
 */
export interface Box {
  w: number;
  h: number;
}

export interface Placed {
  x: number;
  y: number;
}

export interface LayoutResult {
  positions: Map<string, Placed>;
  width: number;
  height: number;
  layers: number;
}

export interface LayoutOptions {
  gapX?: number;
  gapY?: number;
  /** Between the columns a tall layer wraps into (default gapX): no layer of arrows between them. */
  gapWrap?: number;
  maxPerColumn?: number;
  /** Squeeze a deep layering into at most this many layers (keeping the left-to-right order). */
  maxLayers?: number;
  /**
   * Deal the boxes, in layer order, evenly into this many layers instead (a map of a few boxes whose layers are
   * uneven: a column of twelve sources beside one of four would wrap and widen the drawing).
   */
  balance?: number;
}

export function layeredLayout(
  ids: readonly string[],
  edges: readonly (readonly [string, string])[],
  size: (id: string) => Box,
  options: LayoutOptions = {},
): LayoutResult {
  const gapX = options.gapX ?? 80;
  const gapY = options.gapY ?? 24;
  const gapWrap = options.gapWrap ?? gapX;
  const maxPerColumn = options.maxPerColumn ?? 18;
  const sorted = [...ids].sort();
  const known = new Set(sorted);
  const out = new Map<string, string[]>();
  const inDeg = new Map<string, number>();
  for (const id of sorted) {
    out.set(id, []);
    inDeg.set(id, 0);
  }
  for (const [a, b] of edges) {
    if (a === b || !known.has(a) || !known.has(b)) continue;
    out.get(a)?.push(b);
    inDeg.set(b, (inDeg.get(b) ?? 0) + 1);
  }
  for (const list of out.values()) list.sort();

  // Break cycles: DFS from sources first (then the rest); edges to a node on the stack are ignored.
  const state = new Map<string, 0 | 1 | 2>();
  const forward = new Map<string, string[]>(sorted.map((id) => [id, []]));
  const roots = [...sorted].sort((a, b) => (inDeg.get(a) ?? 0) - (inDeg.get(b) ?? 0) || (a < b ? -1 : 1));
  for (const root of roots) {
    if (state.get(root)) continue;
    const stack: { id: string; i: number }[] = [{ id: root, i: 0 }];
    state.set(root, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const next = out.get(top.id)?.[top.i++];
      if (next === undefined) {
        state.set(top.id, 2);
        stack.pop();
        continue;
      }
      const s = state.get(next) ?? 0;
      if (s === 1) continue; // back edge
      forward.get(top.id)?.push(next);
      if (s === 0) {
        state.set(next, 1);
        stack.push({ id: next, i: 0 });
      }
    }
  }

  // Longest path layering over the acyclic edges (Kahn's order).
  const layer = new Map<string, number>(sorted.map((id) => [id, 0]));
  const indeg = new Map<string, number>(sorted.map((id) => [id, 0]));
  for (const list of forward.values()) for (const b of list) indeg.set(b, (indeg.get(b) ?? 0) + 1);
  const queue = sorted.filter((id) => indeg.get(id) === 0);
  for (let qi = 0; qi < queue.length; qi++) {
    const a = queue[qi];
    for (const b of forward.get(a) ?? []) {
      layer.set(b, Math.max(layer.get(b) ?? 0, (layer.get(a) ?? 0) + 1));
      indeg.set(b, (indeg.get(b) ?? 0) - 1);
      if (indeg.get(b) === 0) queue.push(b);
    }
  }
  let layerCount = sorted.length === 0 ? 0 : Math.max(...layer.values()) + 1;
  if (options.balance && sorted.length > 0) {
    const columns = Math.min(options.balance, sorted.length);
    const order = [...sorted].sort((a, b) => (layer.get(a) ?? 0) - (layer.get(b) ?? 0) || (a < b ? -1 : 1));
    for (let i = 0; i < order.length; i++) layer.set(order[i], Math.floor((i * columns) / order.length));
    layerCount = columns;
  } else if (options.maxLayers && layerCount > options.maxLayers) {
    const squeeze = options.maxLayers / layerCount;
    for (const id of sorted) layer.set(id, Math.floor((layer.get(id) ?? 0) * squeeze));
    layerCount = options.maxLayers;
  }
  const layers: string[][] = Array.from({ length: layerCount }, () => []);
  for (const id of sorted) layers[layer.get(id) ?? 0].push(id);

  // Order within layers: barycentre of predecessors, then of successors.
  const preds = new Map<string, string[]>(sorted.map((id) => [id, []]));
  for (const [a, list] of forward) for (const b of list) preds.get(b)?.push(a);
  const rank = new Map<string, number>();
  const setRanks = () => {
    for (const l of layers) {
      for (let i = 0; i < l.length; i++) rank.set(l[i], i);
    }
  };
  setRanks();
  const bary = (_id: string, neighbours: string[] | undefined, fallback: number) => {
    if (!neighbours || neighbours.length === 0) return fallback;
    return neighbours.reduce((s, n) => s + (rank.get(n) ?? 0), 0) / neighbours.length;
  };
  for (let sweep = 0; sweep < 2; sweep++) {
    for (let i = 1; i < layers.length; i++) {
      const l = layers[i];
      const key = new Map(l.map((id, j) => [id, bary(id, preds.get(id), j)]));
      l.sort((a, b) => (key.get(a) ?? 0) - (key.get(b) ?? 0) || (a < b ? -1 : 1));
      for (let j = 0; j < l.length; j++) rank.set(l[j], j);
    }
    for (let i = layers.length - 2; i >= 0; i--) {
      const l = layers[i];
      const key = new Map(l.map((id, j) => [id, bary(id, forward.get(id), j)]));
      l.sort((a, b) => (key.get(a) ?? 0) - (key.get(b) ?? 0) || (a < b ? -1 : 1));
      for (let j = 0; j < l.length; j++) rank.set(l[j], j);
    }
  }

  // Columns: each layer, wrapped into sub-columns of at most maxPerColumn.
  const positions = new Map<string, Placed>();
  let x = 0;
  let height = 0;
  const columns: { ids: string[]; x: number; w: number; h: number }[] = [];
  for (const l of layers) {
    for (let start = 0; start < l.length; start += maxPerColumn) {
      const ids = l.slice(start, start + maxPerColumn);
      const w = Math.max(...ids.map((id) => size(id).w));
      const h = ids.reduce((s, id) => s + size(id).h, 0) + gapY * (ids.length - 1);
      columns.push({ ids, x: x + w / 2, w, h });
      x += w + (start + maxPerColumn < l.length ? gapWrap : gapX);
      height = Math.max(height, h);
    }
  }
  for (const col of columns) {
    let y = (height - col.h) / 2;
    for (const id of col.ids) {
      const h = size(id).h;
      positions.set(id, { x: col.x, y: y + h / 2 });
      y += h + gapY;
    }
  }
  return { positions, width: Math.max(0, x - gapX), height, layers: layerCount };
}

/** Drawn size of a layout fitted to a canvas `aspect` wide for 1 high, up to a common factor. */
export function fitScale(r: { width: number; height: number }, aspect: number): number {
  return Math.min(aspect / Math.max(1, r.width), 1 / Math.max(1, r.height));
}

/** The most boxes for which fittedLayeredLayout tries several column heights (each try is a whole layout). */
export const SEARCH_MAX = 2000;

/**
 * The layered layout whose columns hold the number of boxes that draws it largest on a canvas of this aspect
 * ratio: `estimate` first, then neighbours of it, since short layers leave gaps an estimate from the boxes'
 * area does not see. `options(bound)` gives the layout options for a bound.
 */
export function fittedLayeredLayout(
  ids: readonly string[],
  edges: readonly (readonly [string, string])[],
  size: (id: string) => Box,
  aspect: number,
  estimate: number,
  options: (maxPerColumn: number) => LayoutOptions,
): LayoutResult {
  let best = layeredLayout(ids, edges, size, options(estimate));
  // Beyond SEARCH_MAX boxes each try costs too much, and no fitted drawing of them can be read anyway: the
  // canvas opens on the view's core.
  if (ids.length <= 4 || ids.length > SEARCH_MAX) return best;
  const tried = new Set([estimate]);
  for (const f of [0.5, 0.6, 0.7, 0.8, 0.9, 1.15, 1.3, 1.5, 1.75, 2, 2.5]) {
    const bound = Math.max(2, Math.round(estimate * f));
    if (tried.has(bound)) continue;
    tried.add(bound);
    const r = layeredLayout(ids, edges, size, options(bound));
    if (fitScale(r, aspect) > fitScale(best, aspect)) best = r;
  }
  return best;
}

export interface Bands {
  /** Laid out in the middle: a team's own services, or the focus. */
  core: LayoutResult;
  /** Boxes left of the core (they call it) and right of it (it calls them). */
  left: readonly string[];
  right: readonly string[];
  /** Every drawn edge: a band box sits level with the core boxes it is linked to. */
  edges: readonly (readonly [string, string])[];
  size: (id: string) => Box;
  aspect: number;
  gapX: number;
  gapY: number;
  gapWrap: number;
}

/**
 * A core drawing with its callers in columns on the left and its callees in columns on the right: what a team
 * or a focus view is about stays together in the middle, however many neighbours it has. Each band is
 * ordered by the height of the core boxes it is linked to and dealt across its columns row by row, so a row
 * reads across; the rows per column are chosen so the whole drawing is drawn largest at this aspect ratio.
 */
export function bandedLayout(b: Bands): LayoutResult {
  const { core, left, right, size, aspect, gapX, gapY, gapWrap } = b;
  const ys = new Map<string, number[]>();
  for (const [from, to] of b.edges) {
    for (const [band, other] of [
      [from, to],
      [to, from],
    ]) {
      const y = core.positions.get(other)?.y;
      if (y === undefined || core.positions.has(band)) continue;
      const list = ys.get(band) ?? [];
      list.push(y);
      ys.set(band, list);
    }
  }
  const level = (id: string) => {
    const list = ys.get(id);
    return list ? list.reduce((s, y) => s + y, 0) / list.length : core.height / 2;
  };
  const order = (ids: readonly string[]) => [...ids].sort((p, q) => level(p) - level(q) || (p < q ? -1 : 1));
  const sides = [order(left), order(right)];
  const all = [...left, ...right];
  const rowH = Math.max(1, ...all.map((id) => size(id).h)) + gapY;
  const colW = Math.max(1, ...all.map((id) => size(id).w));
  const bandWidth = (n: number, rows: number) => {
    const cols = Math.ceil(n / rows);
    return cols === 0 ? 0 : cols * colW + (cols - 1) * gapWrap + gapX;
  };
  let rows = Math.max(1, all.length);
  let bestScale = -1;
  for (let k = 1; k <= Math.max(1, all.length); k++) {
    const shape = {
      width: bandWidth(sides[0].length, k) + core.width + bandWidth(sides[1].length, k),
      height: Math.max(core.height, k * rowH - gapY),
    };
    const s = fitScale(shape, aspect);
    if (s > bestScale) {
      bestScale = s;
      rows = k;
    }
  }
  const height = Math.max(
    core.height,
    Math.min(rows, Math.max(...sides.map((ids) => ids.length))) * rowH - gapY,
  );
  const positions = new Map<string, Placed>();
  // Deals a band into columns, the first column nearest the core; returns the columns' x of its far edge.
  const place = (ids: string[], nearX: number, away: 1 | -1) => {
    if (ids.length === 0) return nearX;
    const cols = Math.ceil(ids.length / rows);
    const top = (height - (Math.ceil(ids.length / cols) * rowH - gapY)) / 2;
    ids.forEach((id, j) => {
      const near = nearX + away * (colW / 2 + (j % cols) * (colW + gapWrap));
      positions.set(id, { x: near, y: top + Math.floor(j / cols) * rowH + size(id).h / 2 });
    });
    return nearX + away * (cols * colW + (cols - 1) * gapWrap);
  };
  // Left band first, from its near edge at 0 leftwards; then everything is shifted right of x = 0.
  const farLeft = place(sides[0], 0, -1);
  const coreX = sides[0].length > 0 ? gapX : 0;
  const coreTop = (height - core.height) / 2;
  for (const [id, p] of core.positions) positions.set(id, { x: coreX + p.x, y: coreTop + p.y });
  const farRight = place(sides[1], coreX + core.width + (sides[1].length > 0 ? gapX : 0), 1);
  for (const p of positions.values()) p.x -= farLeft;
  const width = farRight - farLeft;
  return { positions, width, height, layers: core.layers + 2 };
}
