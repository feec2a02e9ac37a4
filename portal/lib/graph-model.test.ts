import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EstateGraph } from './estate.ts';
import { layeredLayout } from './graph-layout.ts';
import { buildGraphView, type GraphViewState } from './graph-model.ts';

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
  expand: [],
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

describe('graph model: grouping, aggregation and hidden-edge counts', () => {
  it('default view: one node per collective, calls aggregated with counts, internal calls counted', () => {
    const view = buildGraphView(graph, base);
    const ids = view.nodes.map((n) => n.id).sort();
    assert.deepEqual(ids, ['g:group:default/core', 'g:group:default/payments', 'g:none']);
    const payments = view.nodes.find((n) => n.id === 'g:group:default/payments');
    assert.equal(payments?.members, 2);
    assert.equal(payments?.internalCalls, 1, 'card-api → cards');
    const core = view.nodes.find((n) => n.id === 'g:group:default/core');
    assert.equal(core?.internalCalls, 2, 'ledger ⇄ balance');
    assert.equal(core?.hidden, 1, 'ledger → cassandra-ledger is hidden while resources are off');
    const edge = view.edges.find(
      (e) => e.source === 'g:group:default/payments' && e.target === 'g:group:default/core',
    );
    assert.equal(edge?.count, 2, 'cards → ledger and cards → balance');
    assert.equal(view.hiddenEdges, 1);
    assertNothingDropped(view);
  });

  it('expanding a collective turns it into a compound node whose services have it as parent', () => {
    const view = buildGraphView(graph, { ...base, expand: ['g:group:default/core'] });
    const core = view.nodes.find((n) => n.id === 'g:group:default/core');
    assert.equal(core?.expanded, true);
    const ledger = view.nodes.find((n) => n.id === 'n:component:default/ledger');
    assert.equal(ledger?.parent, 'g:group:default/core');
    assert.equal(ledger?.hidden, 1);
    assert.ok(
      view.edges.some(
        (e) => e.source === 'g:group:default/payments' && e.target === 'n:component:default/ledger',
      ),
    );
    assert.ok(
      view.edges.some(
        (e) => e.source === 'n:component:default/ledger' && e.target === 'n:component:default/balance',
      ),
    );
    // The compound box contains its children.
    for (const child of view.nodes.filter((n) => n.parent === core?.id)) {
      assert.ok(Math.abs(child.x - (core?.x ?? 0)) <= (core?.w ?? 0) / 2, child.id);
      assert.ok(Math.abs(child.y - (core?.y ?? 0)) <= (core?.h ?? 0) / 2, child.id);
    }
    assertNothingDropped(view);
  });

  it('filters hide edges but count them on the node they touch', () => {
    const declared = buildGraphView(graph, { ...base, edges: 'declared' });
    const none = declared.nodes.find((n) => n.id === 'g:none');
    assert.equal(none?.hidden, 1, 'the observed-only stray → card-api edge');
    assert.equal(declared.nodes.find((n) => n.id === 'g:group:default/payments')?.hidden, 1);
    const tier1 = buildGraphView(graph, { ...base, tier: ['1'], expand: ['g:group:default/core'] });
    assert.equal(tier1.inScope, 3);
    const ledger = tier1.nodes.find((n) => n.id === 'n:component:default/ledger');
    assert.equal(ledger?.hidden, 3, 'to and from balance (tier 2), and to cassandra');
    const team = buildGraphView(graph, { ...base, team: 'group:default/card-processing' });
    assert.equal(team.inScope, 2);
    assertNothingDropped(team);
  });

  it('focus: the n-hop neighbourhood, with its own collective expanded and the rest counted as hidden', () => {
    const view = buildGraphView(graph, { ...base, focus: 'balance', depth: 1 });
    assert.equal(view.focusRef, 'component:default/balance');
    assert.equal(view.inScope, 3, 'balance, ledger and cards');
    const balance = view.nodes.find((n) => n.id === 'n:component:default/balance');
    assert.equal(balance?.focus, true);
    const payments = view.nodes.find((n) => n.id === 'g:group:default/payments');
    assert.equal(payments?.members, 1, 'only cards is within one hop');
    assert.equal(payments?.hidden, 1, 'card-api → cards is beyond the focus');
    assert.equal(buildGraphView(graph, { ...base, focus: 'nope' }).focusMissing, true);
    const deeper = buildGraphView(graph, { ...base, focus: 'balance', depth: 3 });
    assert.equal(deeper.inScope, 5);
  });

  it('resources and system grouping', () => {
    const view = buildGraphView(graph, { ...base, resources: true, group: 'system' });
    assert.equal(view.inScope, 6);
    assert.equal(view.hiddenEdges, 0);
    assert.deepEqual(view.nodes.map((n) => n.id).sort(), ['g:none', 'g:system:default/cards']);
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

  it('handles the empty graph', () => {
    assert.deepEqual(layeredLayout([], [], () => ({ w: 1, h: 1 })).positions.size, 0);
  });
});
