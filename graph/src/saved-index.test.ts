import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { nodeCard } from './card.ts';
import { exportGraph } from './export.ts';
import { applyChanges, buildGraphIndex, type GraphIndex, mergeObserved } from './graph-index.ts';
import { impact } from './impact.ts';
import { ownership } from './ownership.ts';
import { paths } from './paths.ts';
import { resolveRef } from './resolve.ts';
import {
  compareNames,
  decodeGraphIndex,
  encodeGraphIndex,
  isSavedIndex,
  readGraphIndexFile,
  writeGraphIndexFile,
} from './saved-index.ts';
import { type EntitySpec, refOf, toEntities } from './testing/entities.ts';
import { nodeRef, randomGraph, toSpecs } from './testing/random-graph.ts';
import { smallEstate } from './testing/small-estate.ts';

function reload(index: GraphIndex, generation = 7): GraphIndex {
  const saved = decodeGraphIndex(encodeGraphIndex(index, generation));
  assert.ok(isSavedIndex(saved), JSON.stringify(saved));
  assert.equal(saved.generation, generation);
  return saved.index;
}

const json = (index: GraphIndex) => exportGraph(index, { format: 'json' });

describe('saved graph index (what `portal path` and `portal serve` read instead of building)', () => {
  it('answers paths and impact as the index it was saved from, and equals it once its relations are made', () => {
    fc.assert(
      fc.property(randomGraph(7), fc.nat(6), fc.nat(6), (g, a, b) => {
        const { specs } = toSpecs(g);
        const built = buildGraphIndex(toEntities(specs));
        const loaded = reload(built);
        const s = nodeRef(a % g.nodes);
        const t = nodeRef(b % g.nodes);
        if (s !== t) assert.deepEqual(paths(loaded, s, t, { k: 10 }), paths(built, s, t, { k: 10 }));
        assert.deepEqual(impact(loaded, s), impact(built, s));
        assert.deepEqual(nodeCard(loaded, s), nodeCard(built, s));
        assert.equal(json(loaded), json(built));
        assert.deepEqual(ownership(loaded), ownership(built));
        // The callers as a loaded index finds them without per-node lists equal those made from the lists.
        const listed = reload(built);
        assert.ok(Array.isArray(listed.calls.inn[0] ?? []));
        assert.deepEqual(reload(built).calls.reverse(), listed.calls.reverse());
      }),
      { numRuns: 200 },
    );
  });

  it('keeps the catalogue part of a live index: saved after traffic was merged, it loads as a fresh build', () => {
    fc.assert(
      fc.property(randomGraph(7), (g) => {
        const { specs, observed } = toSpecs(g);
        const live = buildGraphIndex(toEntities(specs));
        mergeObserved(live, [...observed, { from: nodeRef(0), to: 'component:default/not-in-catalogue' }]);
        const fresh = buildGraphIndex(toEntities(specs));
        assert.equal(json(reload(live)), json(fresh));
        // Merging the traffic again after loading gives the live index's answers.
        const loaded = reload(live);
        mergeObserved(loaded, [...observed, { from: nodeRef(0), to: 'component:default/not-in-catalogue' }]);
        assert.equal(json(loaded), json(live));
      }),
      { numRuns: 200 },
    );
  });

  it('takes changes after loading as a full rebuild would', () => {
    fc.assert(
      fc.property(randomGraph(6), randomGraph(6), (before, after) => {
        const a = toEntities(toSpecs(before).specs);
        const next = toEntities(toSpecs(after).specs);
        const loaded = reload(buildGraphIndex(a));
        const nextRefs = new Set(next.map((e) => `${e.kind.toLowerCase()}:default/${e.metadata.name}`));
        const removed = a
          .map((e) => `${e.kind.toLowerCase()}:default/${e.metadata.name}`)
          .filter((r) => !nextRefs.has(r));
        applyChanges(loaded, { upserted: next, removed });
        const rebuilt = buildGraphIndex(next);
        assert.equal(json(loaded), json(rebuilt));
        if (after.nodes > 1)
          assert.deepEqual(paths(loaded, nodeRef(0), nodeRef(1)), paths(rebuilt, nodeRef(0), nodeRef(1)));
      }),
      { numRuns: 150 },
    );
  });

  it('resolves short names, cards and squads of the small estate as the built index does', () => {
    const built = buildGraphIndex(smallEstate());
    const loaded = reload(built);
    // `ledger` is both a Component and a Group: the Component wins, in both.
    assert.equal(resolveRef(loaded, 'ledger'), 'component:default/ledger');
    assert.throws(() => resolveRef(loaded, 'legder'), /closest: ledger/);
    assert.deepEqual(
      paths(loaded, 'card-api', 'cassandra-ledger'),
      paths(built, 'card-api', 'cassandra-ledger'),
    );
    assert.deepEqual(impact(loaded, 'group:default/ledger'), impact(built, 'group:default/ledger'));
    assert.deepEqual(impact(loaded, refOf('api', 'feed-rpc')), impact(built, refOf('api', 'feed-rpc')));
    const card = nodeCard(loaded, 'component:default/card-api');
    assert.equal(card.collective, 'group:default/payments');
    assert.equal(card.runbook, 'https://runbooks.bank.example/card-api');
  });

  it('refuses a damaged, foreign or older file with a reason, and says a missing one is missing', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'saved-index-'));
    const file = path.join(dir, 'portal.graph.index');
    assert.deepEqual(readGraphIndexFile(file), { kind: 'missing' });
    writeGraphIndexFile(file, buildGraphIndex(smallEstate()), 3);
    const good = readGraphIndexFile(file);
    assert.ok(isSavedIndex(good));
    assert.equal(good.generation, 3);

    const bytes = readFileSync(file);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 5] ^= 0x20;
    writeFileSync(file, flipped);
    assert.match(JSON.stringify(readGraphIndexFile(file)), /"corrupt".*checksum/);

    writeFileSync(file, bytes.subarray(0, bytes.length - 100));
    assert.equal((readGraphIndexFile(file) as { kind: string }).kind, 'corrupt');

    writeFileSync(file, '{"format":"something-else"}\n');
    assert.match(JSON.stringify(readGraphIndexFile(file)), /not a saved graph index/);

    const newline = bytes.indexOf(10);
    const header = JSON.parse(bytes.toString('utf8', 0, newline));
    writeFileSync(
      file,
      Buffer.concat([Buffer.from(JSON.stringify({ ...header, version: 0 })), bytes.subarray(newline)]),
    );
    assert.match(JSON.stringify(readGraphIndexFile(file)), /"old-format".*version 0/);
  });

  it('makes its relations graph in slices when asked (prepareRelations), the same graph as made in one go', async () => {
    // More nodes and edges than one slice of making takes, so that it must pause.
    const specs: EntitySpec[] = [{ kind: 'Group', name: 'team' }];
    for (let i = 0; i < 5000; i++)
      specs.push({
        kind: 'Component',
        name: `c${i}`,
        owner: 'team',
        dependsOn: i ? [`component:c${i - 1}`] : [],
      });
    const built = buildGraphIndex(toEntities(specs));
    const sliced = reload(built);
    let turns = 0;
    const counting = setInterval(() => turns++, 0);
    await sliced.prepareRelations(0);
    clearInterval(counting);
    assert.ok(turns > 0, 'the event loop had no turn while the relations graph was made');
    assert.equal(json(sliced), json(reload(built)));
    assert.equal(sliced.relations.order, 5001);
    assert.equal(sliced.relations.size, built.relations.size);

    // A reader that cannot wait finishes it at once; the slices then stop.
    const raced = reload(built);
    const preparing = raced.prepareRelations(0);
    assert.equal(raced.relations.size, built.relations.size);
    await preparing;
    assert.equal(json(raced), json(built));
    // Nothing to make: resolves at once.
    await buildGraphIndex(toEntities(specs)).prepareRelations();
  });

  it('orders names as string comparison of the names does (the load-time check makes no name strings)', () => {
    const ref = fc
      .tuple(
        fc.constantFrom('component', 'api', 'group'),
        fc.string({ maxLength: 4 }),
        fc.string({ maxLength: 6 }),
      )
      .map(([k, ns, name]) => `${k}:${ns.replace(/[/:]/g, '')}/${name}`);
    fc.assert(
      fc.property(ref, ref, (a, b) => {
        const na = a.slice(a.indexOf('/') + 1);
        const nb = b.slice(b.indexOf('/') + 1);
        assert.equal(Math.sign(compareNames(a, b)), na < nb ? -1 : na > nb ? 1 : 0, `${a} vs ${b}`);
      }),
      { numRuns: 2000 },
    );
  });

  it('saves and loads an empty index', () => {
    const loaded = reload(buildGraphIndex([]));
    assert.equal(loaded.calls.order, 0);
    assert.equal(loaded.relations.order, 0);
  });
});
