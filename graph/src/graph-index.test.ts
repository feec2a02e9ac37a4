import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import type { Entity } from '@backstage/catalog-model';
import { GraphQueryError } from './errors.ts';
import { exportGraph } from './export.ts';
import {
  addObservedEdge,
  applyChanges,
  buildGraphIndex,
  mergeObserved,
  removeObservedEdge,
} from './graph-index.ts';
import { paths } from './paths.ts';
import { toEntities } from './testing/entities.ts';
import { smallEstate, smallEstateSpecs } from './testing/small-estate.ts';

const edges = (index: ReturnType<typeof buildGraphIndex>) => {
  const out: string[] = [];
  index.calls.forEachEdge((a, s, t) =>
    out.push(`${s} -> ${t} [${a.kinds.join(',')}|${a.sources.join(',')}]`),
  );
  return out.sort();
};

describe('GraphIndex', () => {
  it('an empty index has no nodes and answers queries with errors, not crashes', () => {
    const index = buildGraphIndex([]);
    assert.equal(index.relations.order, 0);
    assert.equal(index.calls.size, 0);
    assert.throws(() => paths(index, 'a', 'b'), /unknown ref 'a'/);
  });

  it('derives call edges: dependsOn to components and resources, consumesApi resolved to the provider', () => {
    const index = buildGraphIndex(smallEstate());
    assert.deepEqual(edges(index), [
      'component:default/audit -> component:default/ledger [dependsOn|declared]',
      'component:default/card-api -> component:default/card-processing [dependsOn|declared]',
      'component:default/card-processing -> component:default/feed [consumesApi|declared]',
      'component:default/card-processing -> component:default/fraud-scoring [dependsOn|declared]',
      'component:default/card-processing -> component:default/ledger [dependsOn|declared]',
      'component:default/ledger -> component:default/audit [dependsOn|declared]',
      'component:default/ledger -> resource:default/cassandra-ledger [dependsOn|declared]',
    ]);
    assert.deepEqual(
      index.calls.getEdgeAttributes('component:default/card-processing', 'component:default/feed')?.apis,
      ['api:default/feed-rpc'],
    );
  });

  it('applyChanges touches only what changed and matches a full rebuild', () => {
    const specs = smallEstateSpecs();
    const index = buildGraphIndex(toEntities(specs));
    const feed = specs.find((s) => s.name === 'feed' && s.kind === 'Component');
    assert.ok(feed);
    feed.providesApis = [];
    const ledger = specs.find((s) => s.name === 'ledger' && s.kind === 'Component');
    assert.ok(ledger);
    ledger.providesApis = ['api:default/ledger-rpc', 'api:default/feed-rpc'];
    const all = toEntities(specs);
    const changed = all.filter((e) => ['feed', 'ledger'].includes(e.metadata.name) && e.kind === 'Component');
    const summary = applyChanges(index, { upserted: changed });
    // feed and ledger, plus card-processing whose consumesApi now resolves to ledger.
    assert.equal(summary.recomputedCallers, 3);
    assert.equal(
      exportGraph(index, { format: 'json' }),
      exportGraph(buildGraphIndex(all), { format: 'json' }),
    );
    assert.ok(index.calls.hasEdge('component:default/card-processing', 'component:default/ledger'));
    assert.ok(!index.calls.hasEdge('component:default/card-processing', 'component:default/feed'));
  });

  it('a removed entity that others still depend on stays as a missing placeholder; edges are never dropped silently', () => {
    const index = buildGraphIndex(smallEstate());
    applyChanges(index, { removed: ['component:default/fraud-scoring'] });
    const attrs = index.relations.getNodeAttributes('component:default/fraud-scoring');
    assert.equal(attrs.present, false);
    assert.ok(index.calls.hasEdge('component:default/card-processing', 'component:default/fraud-scoring'));
    const result = paths(index, 'card-api', 'fraud-scoring');
    assert.equal(result.paths[0].hops.at(-1)?.missing, true);
    // Removing the only dependent too drops the placeholder entirely.
    applyChanges(index, { removed: ['component:default/lonely'] });
    assert.ok(!index.relations.hasNode('component:default/lonely'));
  });

  it('a bad change is refused before anything changes', () => {
    const index = buildGraphIndex(smallEstate());
    const before = exportGraph(index, { format: 'json' });
    const version = index.version;
    const good = smallEstate()[0];
    const bad = { kind: 'Component', metadata: {} } as unknown as Entity;
    assert.throws(() => applyChanges(index, { upserted: [good, bad] }), GraphQueryError);
    assert.throws(() => applyChanges(index, { removed: ['not a ref'] }), /expected a ref like/);
    assert.equal(exportGraph(index, { format: 'json' }), before);
    assert.equal(index.version, version);
  });

  it('observed edges merge with declared ones and carry both sources; replace keeps only the latest window', () => {
    const index = buildGraphIndex(smallEstate());
    addObservedEdge(index, {
      from: 'component:default/card-api',
      to: 'component:default/card-processing',
      count: 41,
    });
    mergeObserved(index, [
      { from: 'component:default/card-api', to: 'component:default/unknown-thing', count: 2 },
    ]);
    assert.deepEqual(
      index.calls.getEdgeAttributes('component:default/card-api', 'component:default/card-processing')
        ?.sources,
      ['declared', 'observed'],
    );
    assert.equal(index.relations.getNodeAttribute('component:default/unknown-thing', 'present'), false);
    assert.equal(paths(index, 'card-api', 'unknown-thing', { via: 'observed' }).paths.length, 1);
    assert.equal(paths(index, 'card-api', 'unknown-thing', { via: 'declared' }).paths.length, 0);
    mergeObserved(index, [{ from: 'component:default/card-api', to: 'component:default/card-processing' }], {
      replace: true,
    });
    assert.ok(!index.relations.hasNode('component:default/unknown-thing'));
    removeObservedEdge(index, 'component:default/card-api', 'component:default/card-processing');
    assert.deepEqual(
      index.calls.getEdgeAttributes('component:default/card-api', 'component:default/card-processing')
        ?.sources,
      ['declared'],
    );
  });

  it('a query during an async ingest sees either the old or the new index, never half of a change', async () => {
    const specs = smallEstateSpecs();
    const index = buildGraphIndex(toEntities(specs));
    // The change reroutes card-api: it now calls feed directly and no longer card-processing.
    const cardApi = specs.find((s) => s.name === 'card-api');
    assert.ok(cardApi);
    cardApi.dependsOn = ['component:default/feed'];
    const feed = specs.find((s) => s.name === 'feed' && s.kind === 'Component');
    assert.ok(feed);
    feed.dependsOn = ['component:default/ledger'];
    const next = toEntities(specs).filter((e) => ['card-api', 'feed'].includes(e.metadata.name));
    const old = JSON.stringify(paths(index, 'card-api', 'ledger'));
    const expectedNew = JSON.stringify(paths(buildGraphIndex(toEntities(specs)), 'card-api', 'ledger'));
    assert.notEqual(old, expectedNew);

    let done = false;
    const seen = new Set<string>();
    const ingest = (async () => {
      for (let i = 0; i < 20; i++) await tick(); // reading and parsing files
      applyChanges(index, { upserted: next });
      for (let i = 0; i < 20; i++) await tick();
      done = true;
    })();
    while (!done) {
      const answer = JSON.stringify(paths(index, 'card-api', 'ledger'));
      assert.ok(
        answer === old || answer === expectedNew,
        'a query saw a state that is neither before nor after',
      );
      seen.add(answer === old ? 'old' : 'new');
      await tick();
    }
    await ingest;
    assert.deepEqual([...seen].sort(), ['new', 'old']);
  });
});
