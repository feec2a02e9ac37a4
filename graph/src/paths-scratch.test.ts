import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildGraphIndex, mergeObserved } from './graph-index.ts';
import { paths } from './paths.ts';
import { refOf, toEntities } from './testing/entities.ts';

// paths() keeps its scratch arrays (distances, stamps) from query to query. This file runs in a process of
// its own, so the first query below is the first one made: what a later query sees is exactly what the
// queries before it here left behind.

const names = (r: ReturnType<typeof paths>) => r.paths.map((p) => p.hops.map((h) => h.name).join(' > '));
const component = (name: string, calls: string[] = []) => ({
  kind: 'Component' as const,
  name,
  dependsOn: calls.map((c) => refOf('component', c)),
});
/** n0 → n1 → … → n11, or the other way round; ids follow the names in both. */
const chain = (reversed: boolean) =>
  buildGraphIndex(
    toEntities(
      Array.from({ length: 12 }, (_, i) =>
        component(`n${i}`, reversed ? (i > 0 ? [`n${i - 1}`] : []) : i < 11 ? [`n${i + 1}`] : []),
      ),
    ),
  );

describe('paths: answers do not depend on the queries before (scratch arrays kept between queries)', () => {
  it('distances to one target are forgotten before the next query', () => {
    const forward = chain(false);
    const backward = chain(true);
    assert.equal(
      forward.calls.ids.get('component:default/n3'),
      backward.calls.ids.get('component:default/n3'),
    );
    // Towards n11 every node gets its distance (n0: 11); on the reversed chain the same ids are as far
    // from n0 (n11: 11), so a distance left behind would be too large and prune the only path.
    assert.equal(paths(forward, 'n0', 'n11', { maxHops: 15 }).paths[0].length, 11);
    assert.equal(paths(backward, 'n11', 'n0', { maxHops: 15 }).paths[0]?.length, 11);
    assert.deepEqual(names(paths(forward, 'n0', 'n1')), ['n0 > n1']);
    // Cut short before the first spur search (the shortest path is longer than maxHops), then again.
    assert.equal(paths(forward, 'n0', 'n11', { maxHops: 3 }).unreachable?.cutOff, 'maxHops');
    assert.equal(paths(backward, 'n11', 'n0', { maxHops: 15 }).paths[0]?.length, 11);
    assert.equal(paths(backward, 'n0', 'n11').unreachable?.cutOff, 'from');
    assert.deepEqual(names(paths(backward, 'n3', 'n1')), ['n3 > n2 > n1']);
  });

  it('nodes seen or blocked by an earlier query are not taken as seen or blocked', () => {
    const diamond = buildGraphIndex(
      toEntities([
        component('a', ['b', 'c', 'e']),
        component('b', ['d']),
        component('c', ['d']),
        component('e', ['c']),
        component('d'),
      ]),
    );
    const expected = ['a > b > d', 'a > c > d', 'a > e > c > d'];
    for (let round = 0; round < 3; round++) {
      assert.deepEqual(names(paths(diamond, 'a', 'd')), expected);
      assert.deepEqual(names(paths(diamond, 'e', 'd')), ['e > c > d']);
      assert.deepEqual(names(paths(diamond, 'a', 'c', { k: 1 })), ['a > c']);
      assert.deepEqual(names(paths(diamond, 'a', 'd', { k: 2 })), expected.slice(0, 2));
    }
  });

  it('a graph that grows past the arrays gets larger ones', () => {
    const diamond = buildGraphIndex(
      toEntities([component('a', ['b', 'c']), component('b', ['d']), component('c', ['d']), component('d')]),
    );
    const declared = ['a > b > d', 'a > c > d'];
    assert.deepEqual(names(paths(diamond, 'a', 'd')), declared);
    // Observed calls to 200 new placeholder nodes, one of them a shortcut a → x0 → d.
    mergeObserved(diamond, [
      { from: 'component:default/a', to: 'component:default/x0' },
      { from: 'component:default/x0', to: 'component:default/d' },
      ...Array.from({ length: 200 }, (_, i) => ({
        from: 'component:default/d',
        to: `component:default/x${i}`,
      })),
    ]);
    assert.ok(diamond.calls.capacity > 200);
    assert.deepEqual(names(paths(diamond, 'a', 'd', { via: 'declared' })), declared);
    assert.deepEqual(names(paths(diamond, 'a', 'd')), [...declared, 'a > x0 > d']);
    assert.deepEqual(names(paths(diamond, 'a', 'd', { via: 'observed' })), ['a > x0 > d']);
    assert.deepEqual(names(paths(diamond, 'd', 'x199')), ['d > x199']);
  });
});
