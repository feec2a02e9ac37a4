import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EstateGraph } from '@bank/plugin-explorer/ui';
import { layeredLayout } from './graph-layout.ts';
import {
  buildGraphView,
  type GraphViewState,
  layoutView,
  neighboursOf,
  OVERVIEW_GROUPS,
  suggestServices,
} from './graph-model.ts';

// Two collectives: payments (card-api → cards → ledger-proxy) and core (ledger, balance, cassandra-ledger).
const graph: EstateGraph = {
  version: 1,
  teams: [
    { ref: 'group:default/card-processing', title: 'Card Processing' },
    { ref: 'group:default/ledger', title: 'Ledger' },
  ],
  collectives: [
    { ref: 'group:default/payments', title: 'Payments' },
    { ref: 'group:default/core', title: 'Core' },
  ],
  systems: [{ ref: 'system:default/cards', title: 'Cards' }],
  nodes: [
    {
      ref: 'component:default/card-api',
      name: 'card-api',
      title: null,
      kind: 'component',
      tier: 1,
      owner: 0,
      collective: 0,
      system: 0,
    },
    {
      ref: 'component:default/cards',
      name: 'cards',
      title: null,
      kind: 'component',
      tier: 1,
      owner: 0,
      collective: 0,
      system: 0,
    },
    {
      ref: 'component:default/ledger',
      name: 'ledger',
      title: null,
      kind: 'component',
      tier: 1,
      owner: 1,
      collective: 1,
      system: -1,
    },
    {
      ref: 'component:default/balance',
      name: 'balance',
      title: null,
      kind: 'component',
      tier: 2,
      owner: 1,
      collective: 1,
      system: -1,
    },
    {
      ref: 'resource:default/cassandra-ledger',
      name: 'cassandra-ledger',
      title: null,
      kind: 'resource',
      tier: null,
      owner: 1,
      collective: 1,
      system: -1,
    },
    {
      ref: 'component:default/stray',
      name: 'stray',
      title: null,
      kind: 'component',
      tier: 3,
      owner: -1,
      collective: -1,
      system: -1,
    },
  ],
  // card-api→cards, cards→ledger, cards→balance, ledger→balance, balance→ledger (cycle), ledger→cassandra,
  // stray→card-api (observed only)
  edges: [0, 1, 1, 1, 2, 1, 1, 3, 1, 2, 3, 1, 3, 2, 1, 2, 4, 1, 5, 0, 2],
};

const base: GraphViewState = {
  focus: '',
  depth: 1,
  group: 'collective',
  tier: [],
  team: '',
  edges: 'any',
  resources: false,
};

/** Every edge touching the scope is either drawn (possibly inside an aggregate) or counted as hidden. */
function assertNothingDropped(view: ReturnType<typeof buildGraphView>) {
  const drawn =
    view.edges.reduce((n, e) => n + e.count, 0) + view.nodes.reduce((n, v) => n + (v.internalCalls ?? 0), 0);
  assert.equal(drawn, view.shownEdges, 'drawn edges add up');
}

/** No two boxes of a laid-out view overlap (boxes are sized from their labels). */
function assertNoOverlap(view: ReturnType<typeof buildGraphView>) {
  const pos = layoutView(view, 1.6);
  const boxes = view.nodes.map((n) => {
    const p = pos.get(n.id) ?? { x: Number.NaN, y: Number.NaN };
    return { id: n.id, x1: p.x - n.w / 2, x2: p.x + n.w / 2, y1: p.y - n.h / 2, y2: p.y + n.h / 2 };
  });
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i];
      const b = boxes[j];
      const overlap = a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2;
      assert.ok(!overlap, `${a.id} overlaps ${b.id}`);
    }
  }
  return pos;
}

describe('graph model: overview, team and focus views', () => {
  it('overview: one node per collective, calls aggregated, nothing reported hidden when no filter is set', () => {
    const view = buildGraphView(graph, base);
    assert.equal(view.mode, 'overview');
    const ids = view.nodes.map((n) => n.id).sort();
    assert.deepEqual(ids, ['g:group:default/core', 'g:group:default/payments', 'g:none']);
    const payments = view.nodes.find((n) => n.id === 'g:group:default/payments');
    assert.equal(payments?.members, 2);
    assert.equal(payments?.internalCalls, 1, 'card-api → cards');
    assert.equal(payments?.sub, '2 services · 1 call inside');
    const core = view.nodes.find((n) => n.id === 'g:group:default/core');
    assert.equal(core?.internalCalls, 2, 'ledger ⇄ balance');
    assert.equal(
      core?.hidden,
      0,
      'ledger → cassandra-ledger is storage, off in this view, not a hidden call',
    );
    const edge = view.edges.find(
      (e) => e.source === 'g:group:default/payments' && e.target === 'g:group:default/core',
    );
    assert.equal(edge?.count, 2, 'cards → ledger and cards → balance');
    assert.equal(view.hiddenEdges, 0);
    assertNothingDropped(view);
    // Callers left of callees: the stray caller, then payments, then core.
    const pos = assertNoOverlap(view);
    const x = (id: string) => pos.get(id)?.x ?? Number.NaN;
    assert.ok(x('g:none') < x('g:group:default/payments'));
    assert.ok(x('g:group:default/payments') < x('g:group:default/core'));
  });

  it('filters hide edges but count them on the node they touch', () => {
    const declared = buildGraphView(graph, { ...base, edges: 'declared' });
    assert.equal(declared.nodes.find((n) => n.id === 'g:none')?.hidden, 1, 'observed-only stray → card-api');
    assert.equal(declared.hiddenEdges, 1);
    const tier1 = buildGraphView(graph, { ...base, tier: ['1'], focus: 'ledger', depth: 4 });
    const ledger = tier1.nodes.find((n) => n.id === 'n:component:default/ledger');
    assert.equal(ledger?.hidden, 2, 'to and from balance (tier 2)');
    assertNothingDropped(tier1);
  });

  it('team: the team’s services and their direct neighbours, each a box with owner and tier', () => {
    const view = buildGraphView(graph, { ...base, team: 'group:default/card-processing' });
    assert.equal(view.mode, 'team');
    assert.equal(view.teamTitle, 'Card Processing');
    const ids = view.nodes.map((n) => n.label).sort();
    assert.deepEqual(ids, ['balance', 'card-api', 'cards', 'ledger', 'stray']);
    const ledger = view.nodes.find((n) => n.label === 'ledger');
    assert.equal(ledger?.neighbour, true);
    assert.equal(ledger?.sub, 'Ledger · T1');
    assert.equal(view.nodes.find((n) => n.label === 'cards')?.neighbour, false);
    // ledger ⇄ balance are both drawn (both neighbours), nothing beyond: hidden only ledger → cassandra? no, storage.
    assert.equal(view.hiddenEdges, 0);
    assertNothingDropped(view);
    // The team in the middle: stray calls it (left), ledger and balance are called by it (right).
    const pos = assertNoOverlap(view);
    const x = (name: string) => pos.get(`n:component:default/${name}`)?.x ?? Number.NaN;
    assert.ok(x('stray') < x('card-api') && x('stray') < x('cards'));
    for (const callee of ['ledger', 'balance'])
      assert.ok(x('cards') < x(callee) && x('card-api') < x(callee));
    // A collective works too, and a system.
    assert.equal(buildGraphView(graph, { ...base, team: 'group:default/core' }).inScope, 3);
    assert.equal(buildGraphView(graph, { ...base, team: 'system:default/cards' }).nodes.length, 5);
  });

  it('focus: every service within n hops is a box of its own, and the rest is counted as hidden', () => {
    const view = buildGraphView(graph, { ...base, focus: 'balance', depth: 1 });
    assert.equal(view.mode, 'focus');
    assert.equal(view.focusRef, 'component:default/balance');
    assert.equal(view.inScope, 3, 'balance, ledger and cards');
    assert.deepEqual(view.nodes.map((n) => n.label).sort(), ['balance', 'cards', 'ledger']);
    assert.equal(view.nodes.find((n) => n.label === 'balance')?.focus, true);
    assert.equal(
      view.nodes.find((n) => n.label === 'cards')?.hidden,
      1,
      'card-api → cards is beyond the focus',
    );
    assert.equal(buildGraphView(graph, { ...base, focus: 'nope' }).focusMissing, true);
    const deeper = buildGraphView(graph, { ...base, focus: 'balance', depth: 3 });
    assert.equal(deeper.nodes.length, deeper.inScope);
    assert.equal(deeper.inScope, 5);
    const pos = assertNoOverlap(deeper);
    const x = (name: string) => pos.get(`n:component:default/${name}`)?.x ?? Number.NaN;
    // Squeezed into three layers to fit the canvas, the order still runs left to right.
    assert.ok(x('stray') <= x('card-api') && x('card-api') <= x('cards') && x('cards') <= x('ledger'));
    assert.ok(x('stray') < x('ledger'));
  });

  it('resources and system grouping', () => {
    const view = buildGraphView(graph, { ...base, resources: true, group: 'system' });
    assert.equal(view.inScope, 6);
    assert.equal(view.hiddenEdges, 0);
    assert.deepEqual(view.nodes.map((n) => n.id).sort(), ['g:none', 'g:system:default/cards']);
  });

  it('suggests services as the focus box is typed, and names callers and callees', () => {
    assert.deepEqual(
      suggestServices(graph, 'card').map((n) => n.name),
      ['cards', 'card-api'],
    );
    assert.deepEqual(
      suggestServices(graph, 'edger').map((n) => n.name),
      ['ledger'],
      'no name starts with edger: names containing it',
    );
    assert.deepEqual(suggestServices(graph, ' '), []);
    const { callers, callees } = neighboursOf(graph, 'component:default/ledger');
    assert.deepEqual(
      callers.map((c) => c.node.name),
      ['cards', 'balance'],
    );
    assert.deepEqual(
      callees.map((c) => c.node.name),
      ['balance', 'cassandra-ledger'],
    );
  });
});

describe('graph model: the overview of a large estate', () => {
  // 60 collectives of one service each; collective i's service calls i + 1's, and the first 10 are busier.
  const n = 60;
  const big: EstateGraph = {
    version: 1,
    teams: [],
    collectives: Array.from({ length: n }, (_, i) => ({ ref: `group:default/c${i}`, title: `C${i}` })),
    systems: [],
    nodes: Array.from({ length: n }, (_, i) => ({
      ref: `component:default/s${i}`,
      name: `s${i}`,
      title: null,
      kind: 'component',
      tier: 2,
      owner: -1,
      collective: i,
      system: -1,
    })),
    edges: Array.from({ length: n - 1 }, (_, i) => [i, i + 1, 1]).flat(),
  };

  it(`draws the ${OVERVIEW_GROUPS} busiest groups and says how many more there are`, () => {
    const view = buildGraphView(big, base);
    assert.equal(view.nodes.length, OVERVIEW_GROUPS);
    assert.equal(view.groupsNotDrawn, n - OVERVIEW_GROUPS);
    const drawn = new Set(view.nodes.map((v) => v.id));
    for (const e of view.edges)
      assert.ok(drawn.has(e.source) && drawn.has(e.target), `${e.id} ends off the map`);
    // Every service is still in scope (a team or focus reaches the groups not drawn).
    assert.equal(view.inScope, n);
  });

  it('deals uneven layers into even columns: twenty collectives calling four fit the canvas', () => {
    const m = 24;
    const starry: EstateGraph = {
      ...big,
      collectives: big.collectives.slice(0, m),
      nodes: big.nodes.slice(0, m),
      edges: Array.from({ length: 20 }, (_, i) => [i, 20 + (i % 4), 1]).flat(),
    };
    const view = buildGraphView(starry, base);
    assert.equal(view.nodes.length, m);
    const pos = assertNoOverlap(view);
    for (const e of view.edges)
      assert.ok((pos.get(e.source)?.x ?? 0) <= (pos.get(e.target)?.x ?? 0), `${e.id} runs right to left`);
    // The explorer's canvas at 1440×900 (1.12). Drawn from its own layers (the sources' layer wrapped) the map
    // is 862×1012; dealt evenly into three columns, 862×800, so it is drawn a quarter larger.
    const aspect = 1.12;
    const at = layoutView(view, aspect);
    const xs = view.nodes.map((v) => at.get(v.id)?.x ?? 0);
    const ys = view.nodes.map((v) => at.get(v.id)?.y ?? 0);
    const w = Math.max(...xs) - Math.min(...xs) + view.nodes[0].w;
    const h = Math.max(...ys) - Math.min(...ys) + view.nodes[0].h;
    assert.ok(Math.min(aspect / w, 1 / h) * 1000 > 1.1, `${Math.round(w)}×${Math.round(h)}`);
  });

  it('draws every group of a smaller estate', () => {
    assert.equal(buildGraphView(graph, base).groupsNotDrawn, 0);
  });
});

describe('graph model: large team and focus views keep what they are about in the middle', () => {
  // A hub (ledger) with 120 callers and 30 callees; the Ledger squad owns it and 10 more services that call it.
  const callers = 120;
  const callees = 30;
  const own = 10;
  const names = [
    'ledger',
    ...Array.from({ length: own }, (_, i) => `ledger-part-${i}`),
    ...Array.from({ length: callers }, (_, i) => `caller-with-a-long-name-${i}`),
    ...Array.from({ length: callees }, (_, i) => `callee-${i}`),
  ];
  const edges: number[] = [];
  for (let i = 1; i <= own; i++) edges.push(i, 0, 1);
  for (let i = own + 1; i <= own + callers; i++) edges.push(i, 0, 1, i, 1 + (i % own), 1);
  for (let i = own + callers + 1; i < names.length; i++) edges.push(0, i, 1);
  const big: EstateGraph = {
    version: 1,
    teams: [
      { ref: 'group:default/ledger', title: 'Ledger' },
      { ref: 'group:default/others', title: 'Others' },
    ],
    collectives: [],
    systems: [],
    nodes: names.map((name, i) => ({
      ref: `component:default/${name}`,
      name,
      title: null,
      kind: 'component',
      tier: 2,
      owner: i <= own ? 0 : 1,
      collective: -1,
      system: -1,
    })),
    edges,
  };
  const aspect = 1.2;
  const bounds = (view: ReturnType<typeof buildGraphView>, pos: Map<string, { x: number; y: number }>) => {
    const xs = view.nodes.flatMap((v) => [
      (pos.get(v.id)?.x ?? 0) - v.w / 2,
      (pos.get(v.id)?.x ?? 0) + v.w / 2,
    ]);
    const ys = view.nodes.flatMap((v) => [
      (pos.get(v.id)?.y ?? 0) - v.h / 2,
      (pos.get(v.id)?.y ?? 0) + v.h / 2,
    ]);
    return { width: Math.max(...xs) - Math.min(...xs), height: Math.max(...ys) - Math.min(...ys) };
  };

  it('focus on a hub: its callers in columns on the left, its callees on the right, drawn to the canvas’s shape', () => {
    const view = buildGraphView(big, { ...base, focus: 'ledger', depth: 1 });
    assert.equal(view.nodes.length, 1 + own + callers + callees);
    const pos = assertNoOverlap(view);
    const hub = pos.get('n:component:default/ledger')?.x ?? Number.NaN;
    for (const v of view.nodes) {
      const x = pos.get(v.id)?.x ?? Number.NaN;
      if (v.label.startsWith('caller') || v.label.startsWith('ledger-part'))
        assert.ok(x < hub, `${v.label} left of ledger`);
      if (v.label.startsWith('callee')) assert.ok(x > hub, `${v.label} right of ledger`);
    }
    const { width, height } = bounds(view, layoutView(view, aspect));
    assert.ok(
      width / height > aspect / 1.6 && width / height < aspect * 1.6,
      `${width}×${height} for ${aspect}`,
    );
  });

  it('a team: its own services together in the middle, however many neighbours it has', () => {
    const view = buildGraphView(big, { ...base, team: 'group:default/ledger' });
    assert.equal(view.nodes.filter((v) => !v.neighbour).length, own + 1);
    const pos = assertNoOverlap(view);
    const x = (v: { id: string }) => pos.get(v.id)?.x ?? Number.NaN;
    const ownX = view.nodes.filter((v) => !v.neighbour).map(x);
    const [lo, hi] = [Math.min(...ownX), Math.max(...ownX)];
    for (const v of view.nodes.filter((n) => n.neighbour)) {
      assert.ok(x(v) < lo || x(v) > hi, `${v.label} is not among the team's own services`);
      assert.equal(x(v) < lo, v.label.startsWith('caller'), `${v.label} on the side it calls from`);
    }
  });

  it('deeper focus views are layered by hop and still drawn to the canvas’s shape', () => {
    const view = buildGraphView(big, { ...base, focus: 'callee-0', depth: 2 });
    assert.equal(view.nodes.length, 1 + own + callers + callees);
    assertNoOverlap(view);
    const { width, height } = bounds(view, layoutView(view, aspect));
    assert.ok(
      width / height > aspect / 1.6 && width / height < aspect * 1.6,
      `${width}×${height} for ${aspect}`,
    );
  });
});

describe('layered layout: callers left of callees, deterministic', () => {
  it('places a chain left to right and breaks cycles', () => {
    const box = () => ({ w: 100, h: 40 });
    const lay = layeredLayout(
      ['c', 'a', 'b', 'd'],
      [
        ['a', 'b'],
        ['b', 'c'],
        ['c', 'b'],
        ['c', 'd'],
      ],
      box,
    );
    const x = (id: string) => lay.positions.get(id)?.x ?? Number.NaN;
    assert.ok(x('a') < x('b') && x('b') < x('c') && x('c') < x('d'));
    assert.deepEqual(
      layeredLayout(
        ['c', 'a', 'b', 'd'],
        [
          ['a', 'b'],
          ['b', 'c'],
          ['c', 'b'],
          ['c', 'd'],
        ],
        box,
      ),
      lay,
    );
  });

  it('wraps tall layers and squeezes deep ones', () => {
    const ids = Array.from({ length: 30 }, (_, i) => `n${String(i).padStart(2, '0')}`);
    const lay = layeredLayout(ids, [], () => ({ w: 10, h: 10 }), { maxPerColumn: 10 });
    assert.equal(new Set([...lay.positions.values()].map((p) => p.x)).size, 3);
    const chain = ids.slice(0, 9).map((id, i) => [id, ids[i + 1]] as const);
    const squeezed = layeredLayout(ids.slice(0, 10), chain, () => ({ w: 10, h: 10 }), { maxLayers: 4 });
    assert.equal(squeezed.layers, 4);
  });

  it('balance deals boxes evenly into columns, in layer order', () => {
    // Twelve sources, each calling one of four sinks: layered, a column of twelve beside one of four.
    const sources = Array.from({ length: 12 }, (_, i) => `a${String(i).padStart(2, '0')}`);
    const sinks = ['z0', 'z1', 'z2', 'z3'];
    const links = sources.map((a, i) => [a, sinks[i % 4]] as const);
    const lay = layeredLayout([...sinks, ...sources], links, () => ({ w: 10, h: 10 }), {
      balance: 2,
      maxPerColumn: 8,
    });
    const xs = [...new Set([...lay.positions.values()].map((p) => p.x))].sort((a, b) => a - b);
    assert.equal(xs.length, 2);
    const column = (id: string) => xs.indexOf(lay.positions.get(id)?.x ?? Number.NaN);
    assert.equal([...lay.positions.keys()].filter((id) => column(id) === 0).length, 8);
    for (const z of sinks) assert.equal(column(z), 1, `${z} is called: right`);
  });

  it('handles the empty graph', () => {
    assert.deepEqual(layeredLayout([], [], () => ({ w: 1, h: 1 })).positions.size, 0);
  });
});
