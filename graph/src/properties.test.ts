import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { cycles } from './cycles.ts';
import { exportGraph } from './export.ts';
import { applyChanges, buildGraphIndex, mergeObserved } from './graph-index.ts';
import { impact } from './impact.ts';
import { paths } from './paths.ts';
import { toEntities } from './testing/entities.ts';
import {
  bruteCycles,
  bruteDistances,
  brutePaths,
  nodeRef,
  randomGraph,
  toSpecs,
} from './testing/random-graph.ts';
import type { Via } from './types.ts';

const via = fc.constantFrom<Via>('any', 'declared', 'observed');

function indexOf(g: fc.Arbitrary<never> | Parameters<typeof toSpecs>[0]) {
  const { specs, observed } = toSpecs(g as Parameters<typeof toSpecs>[0]);
  const index = buildGraphIndex(toEntities(specs));
  mergeObserved(index, observed);
  return index;
}

describe('properties against brute force on random graphs (cycles, self-loops, parallel edges, disconnected parts)', () => {
  it('paths: exactly the first k simple paths by (length, refs), each hop pair a real edge', () => {
    fc.assert(
      fc.property(
        randomGraph(7),
        fc.nat(6),
        fc.nat(6),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 6 }),
        via,
        (g, a, b, k, maxHops, v) => {
          const s = a % g.nodes;
          const t = b % g.nodes;
          fc.pre(s !== t);
          const index = indexOf(g);
          const result = paths(index, nodeRef(s), nodeRef(t), { k, maxHops, via: v });
          const got = result.paths.map((p) => p.hops.map((h) => h.ref));
          assert.deepEqual(got, brutePaths(g, s, t, k, maxHops, v));
          for (const p of result.paths) {
            assert.equal(p.length, p.hops.length - 1);
            p.edges.forEach((e, i) => {
              assert.equal(e.from, p.hops[i].ref);
              assert.equal(e.to, p.hops[i + 1].ref);
              assert.ok(index.calls.hasEdge(e.from, e.to));
              if (v !== 'any') assert.ok(e.sources.includes(v));
            });
          }
          assert.equal(result.unreachable !== undefined, got.length === 0);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('paths: the same answers when queries on several graphs interleave (scratch arrays kept between queries)', () => {
    const query = fc.record({
      graph: fc.nat(2),
      a: fc.nat(9),
      b: fc.nat(9),
      k: fc.integer({ min: 1, max: 8 }),
      maxHops: fc.integer({ min: 1, max: 6 }),
      via,
    });
    fc.assert(
      fc.property(
        fc.tuple(randomGraph(4), randomGraph(7), randomGraph(10)),
        fc.array(query, { minLength: 2, maxLength: 12 }),
        (graphs, queries) => {
          const indexes = graphs.map(indexOf);
          for (const q of queries) {
            const g = graphs[q.graph];
            const s = q.a % g.nodes;
            const t = q.b % g.nodes;
            if (s === t) continue;
            const result = paths(indexes[q.graph], nodeRef(s), nodeRef(t), q);
            const got = result.paths.map((p) => p.hops.map((h) => h.ref));
            assert.deepEqual(got, brutePaths(g, s, t, q.k, q.maxHops, q.via));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('impact: every transitive dependent at its shortest depth, nothing else', () => {
    fc.assert(
      fc.property(
        randomGraph(7),
        fc.nat(6),
        fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
        via,
        (g, a, depth, v) => {
          const target = a % g.nodes;
          const index = indexOf(g);
          const result = impact(index, nodeRef(target), { depth, via: v });
          const d = bruteDistances(g, v);
          const expected = new Map<string, number>();
          for (let i = 0; i < g.nodes; i++) {
            if (i !== target && d[i][target] < Infinity && d[i][target] <= (depth ?? Infinity))
              expected.set(nodeRef(i), d[i][target]);
          }
          assert.deepEqual(new Map(result.dependents.map((x) => [x.ref, x.depth])), expected);
          assert.equal(result.total, expected.size);
          for (let i = 1; i < result.dependents.length; i++) {
            const p = result.dependents[i - 1];
            const q = result.dependents[i];
            assert.ok(
              (p.tier ?? 99) < (q.tier ?? 99) || ((p.tier ?? 99) === (q.tier ?? 99) && p.depth <= q.depth),
              'tier-1 first, then nearest',
            );
          }
          const rolled = result.bySquad.reduce((n, r) => n + r.services, 0);
          assert.equal(rolled, result.total);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('cycles: strongly connected components of more than one node', () => {
    fc.assert(
      fc.property(randomGraph(8), via, (g, v) => {
        const index = indexOf(g);
        const got = cycles(index, { via: v }).cycles.map((c) => c.members.map((m) => m.ref));
        assert.deepEqual(got, bruteCycles(g, v));
      }),
      { numRuns: 300 },
    );
  });

  it('incremental changes give the same index as a full rebuild', () => {
    fc.assert(
      fc.property(randomGraph(6), randomGraph(6), (before, after) => {
        const a = toSpecs(before);
        const b = toSpecs(after);
        const index = buildGraphIndex(toEntities(a.specs));
        const next = toEntities(b.specs);
        const nextRefs = new Set(next.map((e) => `${e.kind.toLowerCase()}:default/${e.metadata.name}`));
        const removed = toEntities(a.specs)
          .map((e) => `${e.kind.toLowerCase()}:default/${e.metadata.name}`)
          .filter((r) => !nextRefs.has(r));
        applyChanges(index, { upserted: next, removed });
        const rebuilt = buildGraphIndex(next);
        assert.equal(exportGraph(index, { format: 'json' }), exportGraph(rebuilt, { format: 'json' }));
        if (after.nodes > 1) {
          assert.deepEqual(
            paths(index, nodeRef(0), nodeRef(1), { k: 10 }),
            paths(rebuilt, nodeRef(0), nodeRef(1), { k: 10 }),
          );
        }
      }),
      { numRuns: 200 },
    );
  });
});
