import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphQueryError, MalformedRefError, UnknownRefError } from './errors.ts';
import { buildGraphIndex, mergeObserved, removeObservedEdge } from './graph-index.ts';
import { paths } from './paths.ts';
import { refOf, toEntities } from './testing/entities.ts';
import { smallEstate } from './testing/small-estate.ts';

const index = buildGraphIndex(smallEstate());
const names = (r: ReturnType<typeof paths>) => r.paths.map((p) => p.hops.map((h) => h.name).join(' > '));

describe('paths', () => {
  it('finds the call path with every hop carrying its card', () => {
    const result = paths(index, 'card-api', 'cassandra-ledger');
    assert.equal(result.from, 'component:default/card-api');
    assert.equal(result.to, 'resource:default/cassandra-ledger');
    assert.deepEqual(names(result), ['card-api > card-processing > ledger > cassandra-ledger']);
    const [first] = result.paths[0].hops;
    assert.deepEqual(first, {
      ref: 'component:default/card-api',
      kind: 'component',
      name: 'card-api',
      title: 'Card API',
      owner: 'group:default/card-processing',
      collective: 'group:default/payments',
      tier: 1,
      oncall: 'payments-card',
      runbook: 'https://runbooks.bank.example/card-api',
      slack: '#card-api',
    });
    // A hop without its own channel gives its owner's.
    assert.equal(result.paths[0].hops[2].slack, '#squad-ledger');
    assert.equal(result.paths[0].hops[1].slack, null);
    assert.deepEqual(result.paths[0].edges[0], {
      from: 'component:default/card-api',
      to: 'component:default/card-processing',
      kinds: ['dependsOn'],
      sources: ['declared'],
    });
  });

  it('is directed: no path against the arrows, and says which side is cut off', () => {
    const result = paths(index, 'cassandra-ledger', 'card-api');
    assert.deepEqual(result.paths, []);
    assert.equal(result.unreachable?.cutOff, 'from');
    assert.match(result.unreachable?.message ?? '', /calls nothing/);
    const toLonely = paths(index, 'card-api', 'lonely');
    assert.equal(toLonely.unreachable?.cutOff, 'to');
    assert.ok((toLonely.unreachable?.fromReaches.count ?? 0) > 0);
    assert.equal(toLonely.unreachable?.reachesTo.count, 0);
  });

  it('reports a path longer than maxHops with its length', () => {
    const result = paths(index, 'card-api', 'cassandra-ledger', { maxHops: 2 });
    assert.equal(result.unreachable?.cutOff, 'maxHops');
    assert.equal(result.unreachable?.shortestHops, 3);
  });

  it('walks through cycles without repeating a node, and orders ties stably', () => {
    const result = paths(index, 'card-processing', 'cassandra-ledger', { k: 10 });
    // ledger ⇄ audit is a cycle: the only simple path goes through ledger once.
    assert.deepEqual(names(result), ['card-processing > ledger > cassandra-ledger']);
    const diamond = buildGraphIndex(
      toEntities([
        { kind: 'Component', name: 'a', dependsOn: [refOf('component', 'c'), refOf('component', 'b')] },
        { kind: 'Component', name: 'b', dependsOn: [refOf('component', 'd')] },
        { kind: 'Component', name: 'c', dependsOn: [refOf('component', 'd'), refOf('component', 'c')] },
        { kind: 'Component', name: 'd', dependsOn: [refOf('component', 'a')] },
      ]),
    );
    assert.deepEqual(names(paths(diamond, 'a', 'd')), ['a > b > d', 'a > c > d']);
    assert.deepEqual(names(paths(diamond, 'a', 'd', { k: 1 })), ['a > b > d']);
  });

  it('an edgeless graph has no paths', () => {
    const edgeless = buildGraphIndex(
      toEntities([
        { kind: 'Component', name: 'a' },
        { kind: 'Component', name: 'b' },
      ]),
    );
    const result = paths(edgeless, 'a', 'b');
    assert.deepEqual(result.paths, []);
    assert.equal(result.unreachable?.cutOff, 'from');
  });

  it('a self-loop is not a path', () => {
    const loop = buildGraphIndex(
      toEntities([
        { kind: 'Component', name: 'a', dependsOn: [refOf('component', 'a'), refOf('component', 'b')] },
        { kind: 'Component', name: 'b' },
      ]),
    );
    assert.deepEqual(names(paths(loop, 'a', 'b', { k: 5 })), ['a > b']);
  });

  it('follows observed edges as they are added, marked on declared ones and removed', () => {
    const graph = buildGraphIndex(
      toEntities([
        { kind: 'Component', name: 'a', dependsOn: [refOf('component', 'b')] },
        { kind: 'Component', name: 'b', dependsOn: [refOf('component', 'd')] },
        { kind: 'Component', name: 'd' },
      ]),
    );
    const observed = () => names(paths(graph, 'a', 'd', { via: 'observed' }));
    assert.deepEqual(observed(), []);
    mergeObserved(graph, [
      { from: 'component:default/a', to: 'component:default/x' },
      { from: 'component:default/x', to: 'component:default/d' },
    ]);
    assert.deepEqual(observed(), ['a > x > d']);
    assert.deepEqual(names(paths(graph, 'a', 'd')), ['a > b > d', 'a > x > d']);
    // Observed on the declared edges too: only the sources of existing edges change.
    mergeObserved(graph, [
      { from: 'component:default/a', to: 'component:default/b' },
      { from: 'component:default/b', to: 'component:default/d' },
    ]);
    assert.deepEqual(observed(), ['a > b > d', 'a > x > d']);
    removeObservedEdge(graph, 'component:default/b', 'component:default/d');
    assert.deepEqual(observed(), ['a > x > d']);
    mergeObserved(graph, [{ from: 'component:default/a', to: 'component:default/b' }], { replace: true });
    assert.deepEqual(observed(), []);
    assert.deepEqual(names(paths(graph, 'a', 'd')), ['a > b > d']);
    assert.deepEqual(names(paths(graph, 'a', 'd', { via: 'declared' })), ['a > b > d']);
  });

  describe('bad input', () => {
    it('unknown ref: UnknownRefError naming the function and the closest names', () => {
      assert.throws(
        () => paths(index, 'card-apu', 'ledger'),
        (err: unknown) => {
          assert.ok(err instanceof UnknownRefError);
          assert.match(err.message, /^paths: unknown ref 'card-apu' \(from\); closest: card-api/);
          assert.equal(err.suggestions[0], 'component:default/card-api');
          return true;
        },
      );
    });
    it('from = to', () => {
      assert.throws(() => paths(index, 'card-api', 'component:default/card-api'), /from and to are the same/);
    });
    it('k and maxHops out of range: the message gives the limits', () => {
      for (const [options, pattern] of [
        [{ k: 0 }, /k must be an integer from 1 to 50 \(got 0\)/],
        [{ k: 51 }, /k must be an integer from 1 to 50/],
        [{ k: 2.5 }, /k must be an integer from 1 to 50/],
        [{ maxHops: 16 }, /maxHops must be an integer from 1 to 15 \(got 16\)/],
        [{ maxHops: 0 }, /maxHops must be an integer from 1 to 15/],
      ] as const) {
        assert.throws(
          () => paths(index, 'card-api', 'ledger', options),
          (err: unknown) =>
            err instanceof GraphQueryError && !(err instanceof UnknownRefError) && pattern.test(err.message),
        );
      }
      assert.throws(
        () => paths(index, 'card-api', 'ledger', { via: 'rumour' as 'any' }),
        /via must be one of declared, observed, any/,
      );
    });
    it('malformed refs', () => {
      for (const bad of ['', 'a:b:c', 'component:default/x/y', 'card api', 'component:', '../etc']) {
        assert.throws(() => paths(index, bad, 'ledger'), MalformedRefError, bad);
      }
    });
    it('a ref that is not a call node (a group) is refused with what would work', () => {
      assert.throws(
        () => paths(index, 'group:default/ledger', 'card-api'),
        (err: unknown) =>
          err instanceof GraphQueryError &&
          !(err instanceof UnknownRefError) &&
          /group:default\/ledger is a group; paths run between components and resources \(from\)/.test(
            err.message,
          ),
      );
      assert.throws(
        () => paths(index, 'card-api', 'feed-rpc'),
        /feed-rpc is an API; .*its providers: component:default\/feed/,
      );
      // The short name prefers the component ledger over the group ledger.
      assert.equal(paths(index, 'card-processing', 'ledger').to, 'component:default/ledger');
    });
  });
});
